import { retry } from "../../core/backoff.ts";
import { DockernetError, errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";

/** How a Docker API call is retried: 3 more tries, waiting 100 ms, 400 ms, then 1.6 s (at most 2 s). */
export interface RetryPolicy {
  retries: number;
  initialMs: number;
  maxMs: number;
}

/** The policy of every network change join makes. */
export const dockerRetry: RetryPolicy = { retries: 3, initialMs: 100, maxMs: 2000 };

/** No answer, or a 5xx: worth another try. A 404 or another 4xx says the same thing again. */
export function isTransient(error: unknown): boolean {
  return !(error instanceof DockernetError) || error.code === "DOCKER_API" || error.code === "DOCKER_UNREACHABLE";
}

/** Runs `call`, retrying transient failures with the shared backoff (times 4 per step); the last error is thrown as is. */
export function withRetry<T>(what: string, call: () => Promise<T>, options: { log: Logger; policy?: RetryPolicy }): Promise<T> {
  const policy = options.policy ?? dockerRetry;
  return retry(call, {
    attempts: policy.retries + 1,
    initialMs: policy.initialMs,
    maxMs: policy.maxMs,
    factor: 4,
    retryable: isTransient,
    onRetry: ({ attempt, delayMs, error }) => options.log.debug("docker call failed, retrying", { call: what, attempt, delay_ms: delayMs, error: errorMessage(error) }),
  });
}
