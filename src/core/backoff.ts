/**
 * The one backoff of the project: exponential, capped, jittered and abortable. The events
 * stream's reconnects, the reconcile driver's retries and join's Docker API retries all use it.
 */

export interface BackoffPolicy {
  /** The first delay. */
  initialMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /** Each delay is the previous one times this (default 2). */
  factor?: number;
  /**
   * Up to this fraction is taken off each delay at random (default 0: none), so that many
   * clients failing together do not retry in step. Taken off, never added, so `maxMs` holds.
   */
  jitter?: number;
}

/** The delay before retry number `attempt` (0 for the first retry): `initialMs * factor^attempt`, capped, jittered. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const capped = Math.min(policy.initialMs * factor ** Math.max(0, attempt), policy.maxMs);
  const jitter = Math.min(Math.max(policy.jitter ?? 0, 0), 1);
  return Math.round(capped * (1 - jitter * random()));
}

/** A sequence of delays that restarts with `reset()`, for a connection that is lost and found again. */
export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #attempt = 0;

  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** How many delays were taken since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay; each call moves one step further. */
  next(): number {
    return backoffDelay(this.#attempt++, this.#policy, this.#random);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Waits `ms`; resolves `false` at once (and clears the timer) when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions extends BackoffPolicy {
  /** Calls in all, the first included (so `attempts: 4` is one call and at most three retries). */
  attempts: number;
  /** Whether another call can help; default: always. */
  retryable?(error: unknown): boolean;
  /** Told before each wait, e.g. to log it. */
  onRetry?(info: { attempt: number; delayMs: number; error: unknown }): void;
  /** Stops waiting; the last error is thrown. */
  signal?: AbortSignal;
  random?: () => number;
}

/**
 * Calls `call` until it succeeds, at most `attempts` times, waiting a backoff delay between
 * calls. The last error is thrown as it was, also when it is not retryable or `signal` aborts.
 */
export async function retry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt + 1 >= options.attempts || options.retryable?.(error) === false || options.signal?.aborted) throw error;
      const delayMs = backoffDelay(attempt, options, options.random);
      options.onRetry?.({ attempt: attempt + 1, delayMs, error });
      if (!(await sleep(delayMs, options.signal))) throw error;
    }
  }
}
