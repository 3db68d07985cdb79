// Idle destroy (src/modes/bridge/server/idle.ts): the watch over the activity clock, on a clock the
// test moves (test/support/bridge-clock.ts), so the delays asserted are exact, however busy the machine.
import { describe, expect, test } from "bun:test";
import { ActivityClock } from "../../src/modes/bridge/local/activity.ts";
import { startIdleWatch } from "../../src/modes/bridge/server/idle.ts";
import { ManualClock } from "../support/bridge-clock.ts";
import { fakeLogger } from "../support/fake-logger.ts";


/** A clock the test moves, and an activity clock reading it. */
function clocks() {
  const clock = new ManualClock();
  return { clock, activity: new ActivityClock({ connectionTimeoutMs: 1000, now: () => clock.now() }) };
}

describe("the idle watch", () => {
  test("a failed destroy is retried with growing delays (not at every check) and reported once; then it succeeds", async () => {
    const log = fakeLogger();
    const attempts: number[] = [];
    const { clock, activity } = clocks();
    const watch = startIdleWatch({
      activity,
      idleTimeoutMs: 50,
      gracePeriodMs: 20,
      log,
      checkEveryMs: 5,
      retry: { initialMs: 40, maxMs: 200 },
      clock,
      onIdle: async () => {
        attempts.push(clock.now());
        if (attempts.length <= 3) throw new Error("HTTP 503 from the cloud API");
      },
    });
    try {
      await clock.until(() => log.lines.some((line) => line.message.startsWith("idle server destroyed")), { limitMs: 3000 });
    } finally {
      watch.stop();
    }
    expect(attempts).toHaveLength(4);
    const apart = attempts.slice(1).map((time, i) => time - (attempts[i] as number));
    expect(apart[0]).toBeGreaterThanOrEqual(30); // 40 ms less jitter, not the 5 ms of a check
    expect(apart[2]).toBeGreaterThan(apart[0] as number);
    expect(log.lines.filter((line) => line.level === "error" || line.level === "warn").map((line) => line.message)).toEqual([
      "the server is idle and will be destroyed",
      "destroying the idle server failed; retrying",
    ]);
    expect(log.lines.filter((line) => line.message === "destroying the idle server")).toHaveLength(1);
  });

  test("after a failed destroy, activity resets the watch: the next idle period warns and destroys again at once", async () => {
    const log = fakeLogger();
    let attempts = 0;
    const { clock, activity } = clocks();
    const watch = startIdleWatch({
      activity,
      idleTimeoutMs: 60,
      gracePeriodMs: 20,
      log,
      checkEveryMs: 5,
      retry: { initialMs: 60_000, maxMs: 60_000 }, // no retry within this test: only activity brings it back
      clock,
      onIdle: async () => {
        if (++attempts === 1) throw new Error("the API is down");
      },
    });
    try {
      await clock.until(() => attempts === 1);
      activity.touch(); // the server (still there) is used again
      await clock.until(() => attempts === 2, { limitMs: 2000 });
      await clock.until(() => log.lines.some((line) => line.message.startsWith("idle server destroyed")));
    } finally {
      watch.stop();
    }
    expect(log.lines.filter((line) => line.message === "the server is idle and will be destroyed")).toHaveLength(2);
  });

  test("a destroyed server is not destroyed again until the bridge was used", async () => {
    const log = fakeLogger();
    let destroys = 0;
    const { clock, activity } = clocks();
    const watch = startIdleWatch({ activity, idleTimeoutMs: 40, gracePeriodMs: 10, log, checkEveryMs: 5, clock, onIdle: async () => void destroys++ });
    try {
      await clock.until(() => destroys === 1);
      await clock.advance(150);
      expect(destroys).toBe(1);
      activity.touch();
      await clock.until(() => destroys === 2);
    } finally {
      watch.stop();
    }
  });
});
