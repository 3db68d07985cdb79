import { errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { ActivityClock } from "./activity.ts";

/**
 * Destroys an idle server: after `idleTimeoutMs` without activity, with a warning in the log
 * `gracePeriodMs` before. Checked every second; activity during the grace period cancels it.
 */
export function startIdleWatch(options: { activity: ActivityClock; idleTimeoutMs: number; gracePeriodMs: number; log: Logger; onIdle(): Promise<void> }): { stop(): void } {
  const { activity, log } = options;
  let warned = false;
  let destroying = false;
  let destroyed = false;
  const timer = setInterval(() => {
    const idle = activity.idleMs();
    const left = options.idleTimeoutMs - idle;
    if (left > options.gracePeriodMs) {
      warned = false;
      // Used again after a destroy: the next idle period may destroy the new server.
      destroyed = false;
      return;
    }
    if (destroyed || destroying) return;
    if (!warned) {
      warned = true;
      log.warn("the server is idle and will be destroyed", { in_s: Math.max(0, Math.round(left / 1000)), idle_s: Math.round(idle / 1000) });
    }
    if (left > 0) return;
    destroying = true;
    log.info("destroying the idle server", { idle_s: Math.round(idle / 1000) });
    options.onIdle().then(
      () => {
        destroyed = true;
        destroying = false;
        log.info("idle server destroyed; the next Docker connection creates one again");
      },
      (error: unknown) => {
        destroying = false;
        log.error("destroying the idle server failed", { error: errorMessage(error) });
      },
    );
  }, 1000);
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
