/**
 * Time as the bridge's timers see it (the link's reconnect delays and deadlines, the idle watch,
 * the activity clock): the system's, or in tests one moved by hand, so that a test of "destroyed
 * after 5 minutes" neither waits 5 minutes nor depends on how busy the machine is.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once, `ms` from now; returns the function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** The system's clock: Date.now and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** Resolves true `ms` from now on `clock`, or false as soon as `signal` aborts (at once when it has). */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      cancel();
      resolve(false);
    };
    const cancel = clock.after(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
