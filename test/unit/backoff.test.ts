import { describe, expect, test } from "bun:test";
import { Backoff, backoffDelay, retry, sleep } from "../../src/core/backoff.ts";

const policy = { initialMs: 100, maxMs: 1000 };

describe("backoffDelay", () => {
  test("doubles from the first delay and stops at the cap", () => {
    expect([0, 1, 2, 3, 4, 5, 10, 2000].map((attempt) => backoffDelay(attempt, policy))).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  test("another factor, and a negative attempt counts as the first", () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, { initialMs: 10, maxMs: 10_000, factor: 3 }))).toEqual([10, 30, 90, 270]);
    expect(backoffDelay(-1, policy)).toBe(100);
  });

  test("jitter takes up to its fraction off, never adds: the cap holds", () => {
    const jittered = { ...policy, jitter: 0.2 };
    expect(backoffDelay(2, jittered, () => 0)).toBe(400);
    expect(backoffDelay(2, jittered, () => 0.5)).toBe(360);
    expect(backoffDelay(2, jittered, () => 0.999999)).toBe(320);
    expect(backoffDelay(9, jittered, () => 0)).toBe(1000);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(9, jittered);
      expect(delay).toBeGreaterThanOrEqual(800);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });

  test("jitter is clamped to [0, 1]", () => {
    expect(backoffDelay(0, { ...policy, jitter: 2 }, () => 0.5)).toBe(50);
    expect(backoffDelay(0, { ...policy, jitter: -1 }, () => 0.5)).toBe(100);
  });
});

describe("Backoff", () => {
  test("each next() is one step further; reset() starts over", () => {
    const backoff = new Backoff({ ...policy, jitter: 0.5 }, () => 0);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400]);
    expect(backoff.attempt).toBe(3);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(100);
  });

  test("the injected random drives the jitter", () => {
    const backoff = new Backoff({ ...policy, jitter: 0.5 }, () => 1 - Number.EPSILON);
    expect(backoff.next()).toBe(50);
  });
});

describe("sleep", () => {
  test("resolves true after the delay", async () => {
    const started = performance.now();
    expect(await sleep(20)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  test("resolves false at once when the signal is already aborted", async () => {
    const started = performance.now();
    expect(await sleep(10_000, AbortSignal.abort())).toBe(false);
    expect(performance.now() - started).toBeLessThan(100);
  });

  test("resolves false promptly when the signal aborts while waiting", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 10);
    expect(await sleep(10_000, controller.signal)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("retry", () => {
  const fast = { initialMs: 1, maxMs: 4 };

  test("calls again until it succeeds, telling each retry", async () => {
    let calls = 0;
    const retries: { attempt: number; delayMs: number }[] = [];
    const result = await retry(
      async () => {
        if (++calls < 3) throw new Error(`fail ${calls}`);
        return "ok";
      },
      { ...fast, attempts: 5, onRetry: ({ attempt, delayMs }) => void retries.push({ attempt, delayMs }) },
    );
    expect([result, calls]).toEqual(["ok", 3]);
    expect(retries).toEqual([
      { attempt: 1, delayMs: 1 },
      { attempt: 2, delayMs: 2 },
    ]);
  });

  test("`attempts` counts every call; the last error is thrown as it was", async () => {
    let calls = 0;
    const last = new Error("still down");
    const failing = () => {
      calls++;
      return Promise.reject(calls === 4 ? last : new Error(`fail ${calls}`));
    };
    await expect(retry(failing, { ...fast, attempts: 4 })).rejects.toBe(last);
    expect(calls).toBe(4);
  });

  test("one attempt is one call, no wait", async () => {
    let calls = 0;
    await expect(retry(() => Promise.reject(new Error(`fail ${++calls}`)), { ...fast, attempts: 1 })).rejects.toThrow("fail 1");
    expect(calls).toBe(1);
  });

  test("an error that is not retryable is thrown at once", async () => {
    let calls = 0;
    const permanent = new Error("bad label");
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(permanent);
        },
        { ...fast, attempts: 5, retryable: (error) => error !== permanent },
      ),
    ).rejects.toBe(permanent);
    expect(calls).toBe(1);
  });

  test("an abort while waiting throws the last error without another call", async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = performance.now();
    const failing = () => Promise.reject(new Error(`fail ${++calls}`));
    setTimeout(() => controller.abort(), 20);
    await expect(retry(failing, { initialMs: 10_000, maxMs: 10_000, attempts: 3, signal: controller.signal })).rejects.toThrow("fail 1");
    expect(calls).toBe(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
