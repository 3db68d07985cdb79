import type { Server } from "node:http";
import { errorMessage } from "../core/errors.ts";
import { startHealthServer } from "../core/health-server.ts";
import { whenAborted } from "../core/lifecycle.ts";
import { parseListen } from "../core/listen.ts";
import { createLogger } from "../core/logger.ts";
import { normalJitPolicy, reluctantJitPolicy, setJitPolicy } from "../core/runtime.ts";
import { Telemetry } from "../core/telemetry.ts";
import type { DockerClient } from "../docker/client.ts";
import { EventBus, type EventHandler } from "../docker/event-bus.ts";
import type { AnyMode, RunningMode } from "./types.ts";

const log = createLogger("dockernet");

export interface DaemonOptions {
  /** The local engine: the one `watch` uses unless a mode names another. */
  client: DockerClient;
  /** Each mode's own config section, by mode name. */
  config: Record<string, unknown>;
  /** Stops every mode when it aborts (SIGTERM, SIGINT). */
  signal: AbortSignal;
  /** `HOST:PORT` (or `PORT`, on loopback) for /healthz and /metrics; empty or absent: off. */
  metricsListen?: string;
}

/**
 * The JIT policy of a daemon running `modes`: reconcilers alone (warp, join) stay reluctant to
 * compile; a service in the process (flow, bridge: they relay streams) sets the normal policy
 * (see reluctantJitPolicy).
 */
export function daemonJitPolicy(modes: readonly Pick<AnyMode, "kind">[]): number {
  return modes.every((mode) => mode.kind === "reconciler") ? reluctantJitPolicy : normalJitPolicy;
}

/**
 * One events stream per engine, opened on first use. Every mode watching an engine shares its
 * stream; each stream reports its own health.
 */
class EngineStreams {
  readonly #buses = new Map<DockerClient, { bus: EventBus; open: Promise<void> }>();
  readonly #telemetry: Telemetry;

  constructor(telemetry: Telemetry) {
    this.#telemetry = telemetry;
  }

  async watch(client: DockerClient, handler: EventHandler): Promise<() => void> {
    let entry = this.#buses.get(client);
    if (entry === undefined) {
      const bus = new EventBus(client, { observer: this.#telemetry });
      entry = { bus, open: Promise.resolve() };
      this.#buses.set(client, entry);
      const unsubscribe = bus.subscribe(handler);
      entry.open = bus.start();
      try {
        await entry.open;
      } catch (error) {
        // Not kept: the next mode to watch this engine tries again.
        this.#buses.delete(client);
        throw error;
      }
      return unsubscribe;
    }
    await entry.open;
    return entry.bus.subscribe(handler);
  }

  /** A line per stream that is down; the local engine's is named plainly. */
  problems(local: DockerClient): string[] {
    return [...this.#buses].flatMap(([client, { bus }]) => {
      if (bus.connected) return [];
      const which = client === local ? "the Docker events stream" : `the Docker events stream of ${client.connection.shown}`;
      return [`${which} is not connected`];
    });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.#buses.values()].map(({ bus }) => bus.stop()));
  }
}

/**
 * Runs modes as daemons until `signal` aborts or a mode fails: starts each mode (each opens the
 * events streams it watches before its startup scan, so the scan misses nothing), serves
 * /healthz and /metrics if asked to, then stops everything in reverse. /healthz reports every
 * events stream and every mode's own health check.
 */
export async function runDaemon(modes: readonly AnyMode[], options: DaemonOptions): Promise<void> {
  const jitPolicy = daemonJitPolicy(modes);
  if (setJitPolicy(jitPolicy)) log.debug("JIT policy set", { scale: jitPolicy });
  const telemetry = new Telemetry();
  const streams = new EngineStreams(telemetry);
  const running: { name: string; mode: RunningMode }[] = [];
  // A stream that is down is the reason: what the modes then report follows from it.
  const health = () => {
    const down = streams.problems(options.client);
    const problems = down.length > 0 ? down : running.flatMap(({ name, mode }) => {
      const problem = mode.health();
      return problem === undefined ? [] : [`${name}: ${problem}`];
    });
    return problems.length > 0 ? problems.join("; ") : undefined;
  };
  let server: Server | undefined;
  if (options.metricsListen) {
    const listen = parseListen(options.metricsListen);
    server = await startHealthServer(listen, telemetry.metrics, health);
    log.info("serving /healthz and /metrics", { listen: `${listen.host}:${listen.port}` });
  }
  const done = new AbortController();
  const onSignal = () => done.abort();
  options.signal.addEventListener("abort", onSignal, { once: true });
  if (options.signal.aborted) done.abort();
  let fatal: { error: unknown } | undefined;
  // "stopped" only follows "started": a mode that fails to start is reported by its error alone.
  let started = false;
  try {
    for (const mode of modes) {
      const fail = (error: unknown) => {
        if (fatal === undefined) {
          fatal = { error };
          log.warn("stopping after a fatal error", { mode: mode.name, error: errorMessage(error) });
        }
        done.abort();
      };
      const started = await mode.daemon({
        client: options.client,
        config: options.config[mode.name],
        log: createLogger(mode.name),
        watch: (handler, client = options.client) => streams.watch(client, handler),
        fail,
        shutdown: () => done.abort(),
        telemetry: telemetry.mode(mode.name),
        metrics: telemetry.metrics,
      });
      running.push({ name: mode.name, mode: started });
      if (done.signal.aborted) break;
    }
    started = true;
    await whenAborted(done.signal);
  } finally {
    options.signal.removeEventListener("abort", onSignal);
    await streams.stop();
    for (const { name, mode } of running.reverse()) {
      await mode.stop().catch((error) => log.error("stopping mode failed", { mode: name, error: errorMessage(error) }));
    }
    server?.closeAllConnections?.();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (started) log.info("stopped");
  }
  if (fatal !== undefined) throw fatal.error;
}
