import { errorMessage } from "../core/errors.ts";
import { whenAborted } from "../core/lifecycle.ts";
import { createLogger } from "../core/logger.ts";
import type { DockerClient } from "./client.ts";
import { EventBus } from "./event-bus.ts";

const log = createLogger("dockernet");

/** A mode started on the shared bus, with a way to stop it. */
export interface ModeStarter {
  name: string;
  /**
   * Starts the mode. `fail` is for errors the mode cannot carry on after (fail-fast): every mode
   * is stopped and runDaemon rejects with that error, so the command exits 1 for a clean restart.
   */
  start(bus: EventBus, fail: (error: unknown) => void): Promise<{ stop(): Promise<void> }>;
}

/**
 * Runs long-lived modes on one events stream until `signal` aborts or a mode fails: opens the
 * stream first (so the modes' startup scans miss nothing), starts each mode, then stops
 * everything in reverse.
 */
export async function runDaemon(client: DockerClient, modes: ModeStarter[], signal: AbortSignal): Promise<void> {
  const bus = new EventBus(client);
  await bus.start();
  const done = new AbortController();
  const onSignal = () => done.abort();
  signal.addEventListener("abort", onSignal, { once: true });
  if (signal.aborted) done.abort();
  let fatal: { error: unknown } | undefined;
  const running: { name: string; stop(): Promise<void> }[] = [];
  try {
    for (const mode of modes) {
      const fail = (error: unknown) => {
        if (fatal === undefined) {
          fatal = { error };
          log.warn("stopping after a fatal error", { mode: mode.name, error: errorMessage(error) });
        }
        done.abort();
      };
      running.push({ name: mode.name, ...(await mode.start(bus, fail)) });
      if (done.signal.aborted) break;
    }
    await whenAborted(done.signal);
  } finally {
    signal.removeEventListener("abort", onSignal);
    await bus.stop();
    for (const mode of running.reverse()) {
      await mode.stop().catch((error) => log.error("stopping mode failed", { mode: mode.name, error: errorMessage(error) }));
    }
    log.info("stopped");
  }
  if (fatal !== undefined) throw fatal.error;
}
