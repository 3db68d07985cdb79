import { errorMessage } from "../core/errors.ts";
import { whenAborted } from "../core/lifecycle.ts";
import { createLogger } from "../core/logger.ts";
import type { DockerClient } from "./client.ts";
import { EventBus } from "./event-bus.ts";

const log = createLogger("dockernet");

/** A mode started on the shared bus, with a way to stop it. */
export interface ModeStarter {
  name: string;
  start(bus: EventBus): Promise<{ stop(): Promise<void> }>;
}

/**
 * Runs long-lived modes on one events stream until `signal` aborts: opens the stream first (so
 * the modes' startup scans miss nothing), starts each mode, then stops everything in reverse.
 */
export async function runDaemon(client: DockerClient, modes: ModeStarter[], signal: AbortSignal): Promise<void> {
  const bus = new EventBus(client);
  await bus.start();
  const running: { name: string; stop(): Promise<void> }[] = [];
  try {
    for (const mode of modes) {
      running.push({ name: mode.name, ...(await mode.start(bus)) });
      if (signal.aborted) break;
    }
    await whenAborted(signal);
  } finally {
    await bus.stop();
    for (const mode of running.reverse()) {
      await mode.stop().catch((error) => log.error("stopping mode failed", { mode: mode.name, error: errorMessage(error) }));
    }
    log.info("stopped");
  }
}
