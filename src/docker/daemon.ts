import type { Server } from "node:http";
import { errorMessage } from "../core/errors.ts";
import { parseListen, startHealthServer } from "../core/health-server.ts";
import { whenAborted } from "../core/lifecycle.ts";
import { createLogger } from "../core/logger.ts";
import { Telemetry, type ModeTelemetry } from "../core/telemetry.ts";
import type { DockerClient } from "./client.ts";
import { EventBus } from "./event-bus.ts";

const log = createLogger("dockernet");

/** What runDaemon gives each mode it starts. */
export interface ModeContext {
  /**
   * For errors the mode cannot carry on after (fail-fast): every mode is stopped and runDaemon
   * rejects with that error, so the command exits 1 for a clean restart.
   */
  fail(error: unknown): void;
  /** Where the mode reports reconciles and changes (/metrics, /healthz). */
  telemetry: ModeTelemetry;
}

/** A mode started on the shared bus, with a way to stop it. */
export interface ModeStarter {
  name: string;
  start(bus: EventBus, context: ModeContext): Promise<{ stop(): Promise<void> }>;
}

export interface DaemonOptions {
  /** `HOST:PORT` (or `PORT`, on loopback) for /healthz and /metrics; empty or absent: off. */
  metricsListen?: string;
}

/**
 * Runs long-lived modes on one events stream until `signal` aborts or a mode fails: opens the
 * stream first (so the modes' startup scans miss nothing), starts each mode, serves /healthz and
 * /metrics if asked to, then stops everything in reverse.
 */
export async function runDaemon(client: DockerClient, modes: ModeStarter[], signal: AbortSignal, options: DaemonOptions = {}): Promise<void> {
  const telemetry = new Telemetry();
  const bus = new EventBus(client, { observer: telemetry });
  let server: Server | undefined;
  if (options.metricsListen) {
    const listen = parseListen(options.metricsListen);
    server = await startHealthServer(listen, telemetry.metrics, () => telemetry.problem(bus.connected));
    log.info("serving /healthz and /metrics", { listen: `${listen.host}:${listen.port}` });
  }
  const done = new AbortController();
  const onSignal = () => done.abort();
  signal.addEventListener("abort", onSignal, { once: true });
  if (signal.aborted) done.abort();
  let fatal: { error: unknown } | undefined;
  const running: { name: string; stop(): Promise<void> }[] = [];
  try {
    await bus.start();
    for (const mode of modes) {
      const fail = (error: unknown) => {
        if (fatal === undefined) {
          fatal = { error };
          log.warn("stopping after a fatal error", { mode: mode.name, error: errorMessage(error) });
        }
        done.abort();
      };
      running.push({ name: mode.name, ...(await mode.start(bus, { fail, telemetry: telemetry.mode(mode.name) })) });
      if (done.signal.aborted) break;
    }
    await whenAborted(done.signal);
  } finally {
    signal.removeEventListener("abort", onSignal);
    await bus.stop();
    for (const mode of running.reverse()) {
      await mode.stop().catch((error) => log.error("stopping mode failed", { mode: mode.name, error: errorMessage(error) }));
    }
    server?.closeAllConnections?.();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    log.info("stopped");
  }
  if (fatal !== undefined) throw fatal.error;
}
