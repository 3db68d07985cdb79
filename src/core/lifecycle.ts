import { createLogger } from "./logger.ts";

const log = createLogger("dockernet");

/**
 * An AbortSignal that fires on SIGTERM or SIGINT, so a daemon can stop its streams and queues
 * and return normally (cleanup runs; no `process.exit`). A second signal is not caught, so an
 * operator can still interrupt a stuck shutdown.
 */
export function shutdownSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    log.info("stopping", { signal: name });
    dispose();
    controller.abort(name);
  };
  const dispose = () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return { signal: controller.signal, dispose };
}

/** Resolves when the signal aborts. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
