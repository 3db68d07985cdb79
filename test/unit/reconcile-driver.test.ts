import { afterEach, describe, expect, test } from "bun:test";
import { ReconcileDriver, type ReconcileDriverOptions } from "../../src/core/reconcile-driver.ts";
import { fakeLogger } from "../support/fake-logger.ts";

/** A promise the test settles by hand, to hold a reconcile in flight. */
function gate(): { promise: Promise<void>; open: () => void; fail: (error: Error) => void } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A driver whose reconcile records calls and the largest number of keys (and of one key) in flight. */
function harness(options: Partial<ReconcileDriverOptions> & { work?: (key: string, call: number) => Promise<void> } = {}) {
  const calls: string[] = [];
  let inFlight = 0;
  const perKey = new Map<string, number>();
  const seen = { maxInFlight: 0, maxSameKey: 0 };
  const { work, ...rest } = options;
  const driver = new ReconcileDriver({
    log: fakeLogger(),
    listKeys: async () => [],
    initialBackoffMs: 5,
    ...rest,
    reconcile: async (key) => {
      calls.push(key);
      inFlight++;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
      seen.maxSameKey = Math.max(seen.maxSameKey, perKey.get(key) ?? 0);
      try {
        await (work?.(key, calls.filter((k) => k === key).length) ?? tick());
      } finally {
        inFlight--;
        perKey.set(key, (perKey.get(key) ?? 1) - 1);
      }
    },
  });
  drivers.push(driver);
  return { driver, calls, seen };
}

const drivers: ReconcileDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.stop()));
});

describe("ReconcileDriver: coalescing", () => {
  test("a burst for a key waiting for a slot becomes one reconcile", async () => {
    const busy = gate();
    const { driver, calls } = harness({ concurrency: 1, work: (key) => (key === "other" ? busy.promise : tick()) });
    driver.enqueue("other");
    for (let i = 0; i < 10; i++) driver.enqueue("app");
    busy.open();
    await driver.drain();
    expect(calls).toEqual(["other", "app"]);
  });

  test("a burst on an idle driver: the first starts at once, the rest fold into one more run", async () => {
    const { driver, calls } = harness();
    for (let i = 0; i < 10; i++) driver.enqueue("app");
    await driver.drain();
    expect(calls).toEqual(["app", "app"]);
  });

  test("a key enqueued while in flight runs exactly once more, afterwards, never beside itself", async () => {
    const first = gate();
    const { driver, calls, seen } = harness({ work: (_key, call) => (call === 1 ? first.promise : tick()) });
    driver.enqueue("app");
    driver.enqueue("app");
    driver.enqueue("app");
    await tick();
    expect(calls).toEqual(["app"]);
    first.open();
    await driver.drain();
    expect(calls).toEqual(["app", "app"]);
    expect(seen.maxSameKey).toBe(1);
  });

  test("different keys run side by side up to the concurrency limit", async () => {
    const hold = gate();
    const { driver, calls, seen } = harness({ concurrency: 2, work: () => hold.promise });
    for (const key of ["a", "b", "c", "d", "e"]) driver.enqueue(key);
    await tick();
    expect(calls).toEqual(["a", "b"]);
    hold.open();
    await driver.drain();
    expect(calls.sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(seen.maxInFlight).toBe(2);
  });
});

describe("ReconcileDriver: failures", () => {
  test("retries with backoff up to `attempts`, then gives up and records the error", async () => {
    const times: number[] = [];
    const { driver, calls } = harness({
      attempts: 3,
      work: async () => {
        times.push(performance.now());
        throw new Error("nsenter: cannot open /proc/42/ns/net");
      },
    });
    driver.enqueue("app");
    await driver.drain();
    expect(calls).toEqual(["app", "app", "app"]);
    expect(driver.results.get("app")).toEqual({ ok: false, error: new Error("nsenter: cannot open /proc/42/ns/net") });
    expect(driver.stats).toEqual({ reconciles: 3, failures: 3 });
    // 5 ms, then 10 ms (timers may fire a little early or late; the doubling shows).
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(3);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThanOrEqual(8);
  });

  test("backoff is capped by maxBackoffMs", async () => {
    const log = fakeLogger();
    const { driver } = harness({ log, attempts: 4, initialBackoffMs: 2, maxBackoffMs: 3, work: async () => Promise.reject(new Error("x")) });
    driver.enqueue("app");
    await driver.drain();
    expect(log.lines.filter((line) => line.message === "retrying").map((line) => line.fields?.delay_ms)).toEqual([2, 3, 3]);
  });

  test("a permanent error is not retried", async () => {
    const { driver, calls } = harness({
      isPermanent: (error) => (error as Error).message.startsWith("bad label"),
      work: async () => Promise.reject(new Error("bad label network.warp.target")),
    });
    driver.enqueue("app");
    await driver.drain();
    expect(calls).toEqual(["app"]);
    expect(driver.results.get("app")).toMatchObject({ ok: false });
  });

  test("results keep the last outcome: a failure then a success is ok", async () => {
    const { driver, calls } = harness({ work: async (_key, call) => (call === 1 ? Promise.reject(new Error("busy")) : undefined) });
    driver.enqueue("app");
    await driver.drain();
    expect(calls).toEqual(["app", "app"]);
    expect(driver.results.get("app")).toEqual({ ok: true });
  });
});

describe("ReconcileDriver: resync, drain, stop", () => {
  test("resync enqueues every listed key", async () => {
    const { driver, calls } = harness({ listKeys: async () => ["a", "b", "c"] });
    await driver.resync();
    await driver.drain();
    expect(calls.sort()).toEqual(["a", "b", "c"]);
    expect([...driver.results.keys()].sort()).toEqual(["a", "b", "c"]);
  });

  test("the periodic resync runs after start()", async () => {
    const { driver, calls } = harness({ listKeys: async () => ["a"], resyncIntervalMs: 5 });
    driver.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await driver.stop();
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });

  test("drain resolves at once when idle, and after the work when busy", async () => {
    const hold = gate();
    const { driver } = harness({ work: () => hold.promise });
    await driver.drain();
    driver.enqueue("app");
    let drained = false;
    const waiting = driver.drain().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    hold.open();
    await waiting;
    expect(drained).toBe(true);
  });

  test("drain waits for a pending retry", async () => {
    const { driver, calls } = harness({ attempts: 2, work: async (_key, call) => (call === 1 ? Promise.reject(new Error("x")) : undefined) });
    driver.enqueue("app");
    await driver.drain();
    expect(calls).toEqual(["app", "app"]);
  });

  test("stop waits for the reconciles in flight and takes no more work", async () => {
    const hold = gate();
    const { driver, calls } = harness({ work: () => hold.promise });
    driver.enqueue("app");
    driver.enqueue("app");
    let stopped = false;
    const stopping = driver.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);
    driver.enqueue("late");
    hold.open();
    await stopping;
    await tick();
    expect(calls).toEqual(["app"]);
  });

  test("stop cancels pending retries", async () => {
    const { driver, calls } = harness({ initialBackoffMs: 1_000, work: async () => Promise.reject(new Error("x")) });
    driver.enqueue("app");
    await tick();
    await tick();
    await driver.stop();
    expect(calls).toEqual(["app"]);
  });
});

describe("ReconcileDriver: garbage after a burst", () => {
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  test("collected once a second passes without a reconcile, never in a pause inside the burst", async () => {
    let collected = 0;
    const { driver } = harness({ collectGarbage: () => collected++ });
    for (let i = 0; i < 20; i++) driver.enqueue(`key-${i}`);
    await driver.drain(); // a burst's worth of reconciles, then a pause
    await sleep(700);
    driver.enqueue("late"); // the burst goes on after the pause
    await driver.drain();
    await sleep(700); // 1.4 s after the pause began, 0.7 s after the last reconcile
    expect(collected).toBe(0);
    const deadline = Date.now() + 3000;
    while (collected === 0 && Date.now() < deadline) await sleep(20);
    expect(collected).toBe(1);
  });
});
