// Idle means nobody is using it (src/modes/bridge/server/running-work.ts): a container running on the
// server holds the activity clock, from the remote engine's events and a full list on resync; the
// idle watch on a clock the test moves (test/support/bridge-clock.ts).
import { describe, expect, test } from "bun:test";
import type { ContainerSummary, DockerEvent } from "../../src/docker/types.ts";
import { ActivityClock } from "../../src/modes/bridge/local/activity.ts";
import { startIdleWatch } from "../../src/modes/bridge/server/idle.ts";
import { IDLE_LABEL, RunningWork } from "../../src/modes/bridge/server/running-work.ts";
import { ManualClock } from "../support/bridge-clock.ts";
import { fakeLogger } from "../support/fake-logger.ts";

const event = (action: string, id: string, labels: Record<string, string> = {}): DockerEvent => ({ type: "container", action, id, name: id, attributes: { name: id, ...labels }, timeNano: 0n });
const summary = (id: string, labels: Record<string, string> = {}): ContainerSummary => ({ id, name: id, labels, running: true, image: "busybox", state: "running", status: "Up", created: "" }) as ContainerSummary;

function setup(options: { countsRunning?: boolean; listed?: ContainerSummary[] } = {}) {
  const clock = new ManualClock();
  const activity = new ActivityClock({ connectionTimeoutMs: 1000, now: () => clock.now() });
  const work = new RunningWork({ countsRunning: options.countsRunning ?? true, list: async () => options.listed ?? [], activity, log: fakeLogger() });
  return { clock, activity, work };
}

describe("running containers count as use", () => {
  test("a started container holds the server past idle + grace; its stop starts the idle time, then the destroy comes", async () => {
    const { clock, activity, work } = setup();
    let destroys = 0;
    const watch = startIdleWatch({ activity, idleTimeoutMs: 100, gracePeriodMs: 20, log: fakeLogger(), checkEveryMs: 5, clock, onIdle: async () => void destroys++ });
    try {
      work.event(event("start", "postgres"));
      await clock.advance(1000);
      expect(destroys).toBe(0);
      expect(activity.idleMs()).toBe(0);
      expect(work.names()).toEqual(["postgres"]);
      work.event(event("die", "postgres"));
      const stopped = clock.now();
      await clock.until(() => destroys === 1, { limitMs: 500 });
      expect(clock.now() - stopped).toBeGreaterThanOrEqual(100);
      expect(work.names()).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  test("a container labelled dockernet.bridge.idle=ignore does not count", async () => {
    const { clock, activity, work } = setup();
    work.event(event("start", "cron", { [IDLE_LABEL]: "ignore" }));
    await clock.advance(50);
    expect(work.names()).toEqual([]);
    expect(activity.idleMs()).toBeGreaterThan(0);
  });

  test("idle_counts_running = false: nothing on the server counts", () => {
    const { work } = setup({ countsRunning: false });
    work.event(event("start", "db"));
    expect(work.names()).toEqual([]);
  });

  test("a resync reads the running containers whole: those started while the stream was down count, the ignored ones not", async () => {
    const { work, activity, clock } = setup({ listed: [summary("b"), summary("a"), summary("quiet", { [IDLE_LABEL]: "ignore" })] });
    work.event(event("start", "gone-meanwhile"));
    await work.resync();
    expect(work.names()).toEqual(["a", "b"]);
    await clock.advance(5000);
    expect(activity.idleMs()).toBe(0);
    work.clear();
    await clock.advance(30);
    expect(activity.idleMs()).toBe(30);
  });
});
