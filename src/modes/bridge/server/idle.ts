import { Backoff } from "../../../core/backoff.ts";
import { errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { systemClock, type Clock } from "../clock.ts";
import type { ActivityClock } from "../local/activity.ts";

export interface IdleWatchOptions {
  activity: ActivityClock;
  idleTimeoutMs: number;
  gracePeriodMs: number;
  log: Logger;
  /** Destroys the server; a rejection is retried (see `retry`) for as long as the bridge stays idle. */
  onIdle(): Promise<void>;
  /** Between two looks at the activity clock (default 1 s). */
  checkEveryMs?: number;
  /** Delays before the next attempt of a failed destroy (default 10 s doubling to 5 min). */
  retry?: { initialMs: number; maxMs: number };
  /** Default: the system's (the activity clock should read the same). */
  clock?: Clock;
}

/**
 * Destroys an idle server: after `idleTimeoutMs` without activity, with a warning in the log
 * `gracePeriodMs` before. Activity during the grace period cancels it. A failed destroy is
 * reported once and tried again with growing delays while the bridge stays idle; activity
 * starts the watch over, so the next idle period destroys (and warns) again.
 */
export function startIdleWatch(options: IdleWatchOptions): { stop(): void } {
  const { activity, log } = options;
  const clock = options.clock ?? systemClock;
  const every = options.checkEveryMs ?? 1000;
  const retry = new Backoff({ initialMs: options.retry?.initialMs ?? 10_000, maxMs: options.retry?.maxMs ?? 300_000, jitter: 0.2 });
  let warned = false;
  let destroying = false;
  let destroyed = false;
  let failures = 0;
  let retryAt = 0;
  const check = () => {
    const idle = activity.idleMs();
    const left = options.idleTimeoutMs - idle;
    if (left > options.gracePeriodMs) {
      // Used again: the next idle period may destroy the (new, or never destroyed) server.
      warned = false;
      destroyed = false;
      failures = 0;
      retryAt = 0;
      retry.reset();
      return;
    }
    if (destroyed || destroying) return;
    if (!warned) {
      warned = true;
      log.warn("the server is idle and will be destroyed", { in_s: Math.max(0, Math.round(left / 1000)), idle_s: Math.round(idle / 1000) });
    }
    if (left > 0 || clock.now() < retryAt) return;
    destroying = true;
    if (failures === 0) log.info("destroying the idle server", { idle_s: Math.round(idle / 1000) });
    else log.debug("destroying the idle server, again", { attempt: failures + 1 });
    options.onIdle().then(
      () => {
        destroyed = true;
        destroying = false;
        log.info("idle server destroyed; the next Docker connection creates one again", failures > 0 ? { attempts: failures + 1 } : undefined);
        failures = 0;
        retry.reset();
      },
      (error: unknown) => {
        destroying = false;
        const delay = retry.next();
        retryAt = clock.now() + delay;
        // Once per idle period: the server is still there (and costs money) until a retry succeeds.
        if (failures++ === 0) log.error("destroying the idle server failed; retrying", { error: errorMessage(error), retry_in_s: Math.round(delay / 1000) });
        else log.debug("destroying the idle server failed again", { error: errorMessage(error), attempt: failures, retry_in_ms: delay });
      },
    );
  };
  let cancel = () => {};
  const next = () => {
    cancel = clock.after(every, () => {
      check();
      next();
    });
  };
  next();
  return { stop: () => cancel() };
}
