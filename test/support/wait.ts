/** Waiting in tests for something that happens on its own: polls, never a fixed sleep. */
import { sleep } from "./_exec.ts";

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
}

/** Polls a synchronous `condition` every 5 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs = 5000, what = "a condition"): Promise<void> {
  await waitFor(what, condition, timeoutMs, 5);
}
