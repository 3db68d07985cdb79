import { DockernetError, errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";

/** How Docker API calls are retried: 3 more tries, waiting 100 ms, 400 ms, then 1.6 s (at most 2 s). */
export interface RetryPolicy {
  retries: number;
  initialMs: number;
  maxMs: number;
}

/** The policy of every Docker API call join makes. */
export const dockerRetry: RetryPolicy = { retries: 3, initialMs: 100, maxMs: 2000 };

/** No answer, or a 5xx: worth another try. A 404 or another 4xx says the same thing again. */
export function isTransient(error: unknown): boolean {
  return !(error instanceof DockernetError) || error.code === "DOCKER_API" || error.code === "DOCKER_UNREACHABLE";
}

/** Runs `call`, retrying transient failures with backoff; the last error is thrown as is. */
export async function withRetry<T>(what: string, call: () => Promise<T>, options: { log: Logger; policy?: RetryPolicy }): Promise<T> {
  const policy = options.policy ?? dockerRetry;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.retries || !isTransient(error)) throw error;
      const delay = Math.min(policy.initialMs * 4 ** attempt, policy.maxMs);
      options.log.debug("docker call failed, retrying", { call: what, attempt: attempt + 1, delay_ms: delay, error: errorMessage(error) });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
