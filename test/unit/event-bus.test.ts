import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { configureLogging, currentLogLevel } from "../../src/core/logger.ts";
import { DockerClient } from "../../src/docker/client.ts";
import { defaultActions, EventBus, type EventBusOptions, type EventHandler, type EventInterest, streamFilters } from "../../src/docker/event-bus.ts";
import { sinceParameter } from "../../src/docker/events.ts";
import type { DockerEvent } from "../../src/docker/types.ts";
import { ScriptedEngine, type ScriptedEvent } from "../support/scripted-engine.ts";
import { waitUntil } from "../support/wait.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);
const NET = "e".repeat(64);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
const until = (check: () => boolean, what: string, timeoutMs = 3000) => waitUntil(check, timeoutMs, what);

/** A promise the test opens by hand, to hold a handler in flight. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function container(action: string, id: string, attributes: Record<string, string> = {}): ScriptedEvent {
  return { type: "container", action, id, attributes: { image: "busybox:latest", name: `app-${id[0]}`, ...attributes } };
}

function network(action: string, containerId: string): ScriptedEvent {
  return { type: "network", action, id: NET, attributes: { container: containerId, name: "edge", type: "bridge" } };
}

/** A handler that keeps what it gets (and when it resynced), doing `work` for each event. */
function recorder(name: string, interest?: EventInterest, work?: (event: DockerEvent) => unknown) {
  const seen: DockerEvent[] = [];
  const resyncs: { at: number }[] = [];
  const handler: EventHandler = {
    name,
    interest,
    onEvent: async (event) => {
      seen.push(event);
      await work?.(event);
    },
    onResync: () => void resyncs.push({ at: performance.now() }),
  };
  return { handler, seen, resyncs, shown: () => seen.map((event) => `${event.action} ${event.id[0]}`) };
}

/** Counts what the bus reports for metrics. */
function counter() {
  const counts = { events: 0, reconnects: 0, coalesced: 0 };
  return { counts, observer: { event: () => void counts.events++, reconnect: () => void counts.reconnects++, coalesced: () => void counts.coalesced++ } };
}

const engines: ScriptedEngine[] = [];
const buses: EventBus[] = [];

/** An engine and a bus on it, with fast reconnects; both go away after the test. */
async function setup(options: EventBusOptions = {}) {
  const engine = await ScriptedEngine.start();
  engines.push(engine);
  const bus = new EventBus(new DockerClient(engine.host), { backoff: { initialMs: 20, maxMs: 100, jitter: 0 }, ...options });
  buses.push(bus);
  return { engine, bus };
}

let level = currentLogLevel();
beforeAll(() => {
  level = currentLogLevel();
  // Reconnect warnings and the failing handlers' errors are expected here.
  configureLogging({ level: "silent", format: "pretty" });
});
afterAll(() => configureLogging({ level, format: "pretty" }));
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop()));
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

describe("EventBus: order and concurrency", () => {
  test("a handler that takes random time still sees each container's events in order", async () => {
    const { engine, bus } = await setup();
    const slow = recorder("slow", undefined, () => sleep(Math.random() * 4));
    bus.subscribe(slow.handler);
    await bus.start();
    const cycle = ["create", "start", "die", "stop"];
    for (let seq = 0; seq < 12; seq++) for (const id of [A, B, C]) engine.emit(container(cycle[seq % 4] ?? "start", id, { seq: String(seq) }));
    await until(() => slow.seen.length === 36, "36 events");
    for (const id of [A, B, C]) {
      expect(slow.seen.filter((event) => event.id === id).map((event) => Number(event.attributes.seq))).toEqual([...Array(12).keys()]);
    }
  });

  test("different containers are handled at the same time", async () => {
    const { engine, bus } = await setup();
    const hold = gate();
    let inFlight = 0;
    let most = 0;
    const handler = recorder("mode", undefined, async () => {
      most = Math.max(most, ++inFlight);
      await hold.promise;
      inFlight--;
    });
    bus.subscribe(handler.handler);
    await bus.start();
    engine.emit(container("start", A));
    engine.emit(container("start", B));
    await until(() => inFlight === 2, "both containers in flight");
    hold.open();
    await until(() => inFlight === 0, "both done");
    expect(most).toBe(2);
  });

  test("a handler blocked on a container does not delay another mode's events of that container", async () => {
    const { engine, bus } = await setup();
    const hold = gate();
    const blocked = recorder("warp", undefined, () => hold.promise);
    const free = recorder("join");
    bus.subscribe(blocked.handler);
    bus.subscribe(free.handler);
    await bus.start();
    engine.emit(container("start", A));
    engine.emit(container("die", A));
    await until(() => free.seen.length === 2, "join's two events");
    expect(free.shown()).toEqual(["start a", "die a"]);
    expect(blocked.shown()).toEqual(["start a"]);
    hold.open();
    await until(() => blocked.seen.length === 2, "warp's second event");
    expect(blocked.shown()).toEqual(["start a", "die a"]);
  });

  test("a handler that throws still gets the next events of that container", async () => {
    const { engine, bus } = await setup();
    const failing = recorder("failing", undefined, () => {
      throw new Error("boom");
    });
    bus.subscribe(failing.handler);
    await bus.start();
    engine.emit(container("start", A));
    engine.emit(container("die", A));
    await until(() => failing.seen.length === 2, "both events");
  });
});

describe("EventBus: interests", () => {
  test("the stream asks for the union, each handler gets only what it asked for", async () => {
    const { counts, observer } = counter();
    const { engine, bus } = await setup({ observer });
    const web = recorder("web", { types: ["container"], actions: ["start"], labels: ["com.example.role=web", "com.example.tier"] });
    const net = recorder("net", { types: ["network"], actions: ["connect"] });
    bus.subscribe(web.handler);
    bus.subscribe(net.handler);
    await bus.start();
    // A network interest rules out an engine-side label filter (see streamFilters).
    expect(engine.requests[0]?.filters).toEqual({ type: ["container", "network"], event: ["connect", "start"] });
    engine.emit(container("start", A, { "com.example.role": "web" }));
    engine.emit(container("start", B, { "com.example.tier": "front" }));
    engine.emit(container("start", C, { "com.example.role": "db" }));
    engine.emit(container("die", A, { "com.example.role": "web" }));
    engine.emit(network("connect", A));
    engine.emit(network("disconnect", A));
    // The engine sends the first three starts and the connect; the bus drops C's start for `web`.
    await until(() => counts.events === 4, "four events through the stream");
    expect(web.shown()).toEqual(["start a", "start b"]);
    expect(net.seen.map((event) => `${event.action} ${event.attributes.container?.[0]}`)).toEqual(["connect a"]);
  });

  test("when every handler wants containers with one label key, the engine filters on that key", async () => {
    const { counts, observer } = counter();
    const { engine, bus } = await setup({ observer });
    const web = recorder("web", { types: ["container"], labels: ["com.example.role=web"] });
    const db = recorder("db", { types: ["container"], actions: ["die"], labels: ["com.example.role=db"] });
    bus.subscribe(web.handler);
    bus.subscribe(db.handler);
    await bus.start();
    expect(engine.requests[0]?.filters).toEqual({ type: ["container"], event: [...defaultActions].sort(), label: ["com.example.role"] });
    engine.emit(container("start", A));
    engine.emit(container("start", B, { "com.example.role": "web" }));
    engine.emit(container("die", C, { "com.example.role": "db" }));
    await until(() => counts.events === 2, "two events through the stream");
    expect(web.shown()).toEqual(["start b"]);
    expect(db.shown()).toEqual(["die c"]);
  });

  test("streamFilters: a superset of every interest that Docker's filter semantics allow", () => {
    const actions = [...defaultActions].sort();
    expect(streamFilters([])).toEqual({ type: ["container", "network"], event: actions });
    expect(streamFilters([{ types: [], actions: [], labels: [] }])).toEqual({ type: ["container", "network"], event: actions });
    expect(streamFilters([{ actions: ["start"] }, { actions: ["die", "start"] }])).toEqual({ type: ["container", "network"], event: ["die", "start"] });
    const containers = (labels?: string[]): EventInterest => ({ types: ["container"], actions: ["start"], labels });
    // Docker ANDs label values: one value at most, and only one every wanted event carries.
    expect(streamFilters([containers(["x=1"]), containers(["x=1"])]).label).toEqual(["x=1"]);
    expect(streamFilters([containers(["x=1", "x=2"]), containers(["x"])]).label).toEqual(["x"]);
    expect(streamFilters([containers(["x=1", "y=1"])]).label).toBeUndefined();
    expect(streamFilters([containers(["x=1"]), containers()]).label).toBeUndefined();
    expect(streamFilters([containers(["x=1"]), { types: ["network"], labels: ["x=1"] }]).label).toBeUndefined();
  });

  test("a subscription after start that widens the union reopens with since= the last event, and misses nothing", async () => {
    const { counts, observer } = counter();
    const { engine, bus } = await setup({ observer });
    const starts = recorder("starts", { actions: ["start"] });
    bus.subscribe(starts.handler);
    await bus.start();
    expect(engine.requests[0]?.filters?.event).toEqual(["start"]);
    const seen = engine.emit(container("start", A));
    await until(() => starts.seen.length === 1, "the start");
    engine.emit(container("die", B)); // left out by the narrow stream
    const dies = recorder("dies", { actions: ["die"] });
    bus.subscribe(dies.handler);
    const reopened = await engine.waitForRequests(2);
    expect(reopened.since).toBe(sinceParameter(seen.timeNano));
    expect(reopened.filters?.event).toEqual(["die", "start"]);
    await until(() => dies.seen.length === 1, "the die, replayed");
    expect(dies.shown()).toEqual(["die b"]);
    engine.emit(container("start", C));
    await until(() => starts.seen.length === 2, "the next start");
    // The replayed start at `since` was recognised, not delivered twice; a planned reopen is no reconnect.
    expect(starts.shown()).toEqual(["start a", "start c"]);
    expect(counts.reconnects).toBe(0);
    expect(starts.resyncs).toHaveLength(0);
    expect(bus.connected).toBe(true);
  });

  test("with no event seen yet, a widening reopen replays from when the stream was opened", async () => {
    const { engine, bus } = await setup();
    bus.subscribe(recorder("starts", { actions: ["start"] }).handler);
    const before = BigInt(Date.now()) * 1_000_000n;
    await bus.start();
    engine.emit(container("die", B));
    const dies = recorder("dies", { actions: ["die"] });
    bus.subscribe(dies.handler);
    const since = (await engine.waitForRequests(2)).since ?? "";
    // The engine's own clock, from the response's Date header: whole seconds, never after the open.
    const [seconds, nanos] = since.split(".");
    expect(nanos).toBe("000000000");
    expect(BigInt(seconds ?? "0") * 1_000_000_000n).toBeGreaterThan(before - 1_000_000_000n);
    expect(BigInt(seconds ?? "0") * 1_000_000_000n).toBeLessThanOrEqual(before + 1_000_000_000n);
    await until(() => dies.seen.length === 1, "the die, replayed");
  });

  test("narrower subscriptions and unsubscribing leave the stream as it is", async () => {
    const { engine, bus } = await setup();
    const all = recorder("all");
    const unsubscribe = bus.subscribe(all.handler);
    await bus.start();
    bus.subscribe(recorder("starts", { actions: ["start"], types: ["container"] }).handler);
    unsubscribe();
    engine.emit(container("start", A));
    await sleep(50);
    expect(engine.requests).toHaveLength(1);
    expect(all.seen).toHaveLength(0);
  });
});

describe("EventBus: coalescing", () => {
  test("an event the same as the last one waiting in its lane is dropped, never one matching an earlier one", async () => {
    const { counts, observer } = counter();
    const { engine, bus } = await setup({ observer });
    const hold = gate();
    const slow = recorder("slow", undefined, (event) => (event.id === A ? hold.promise : undefined));
    bus.subscribe(slow.handler);
    await bus.start();
    // start: in flight; die: waits; die: dropped; start: waits; die: waits (only an earlier one is the same); die: dropped.
    for (const action of ["start", "die", "die", "start", "die", "die"]) engine.emit(container(action, A));
    engine.emit(container("start", B));
    await until(() => counts.events === 7, "every event through the stream");
    await until(() => slow.seen.some((event) => event.id === B), "B, in its own lane");
    expect(counts.coalesced).toBe(2);
    hold.open();
    await until(() => slow.seen.length === 5, "the slow lane drained");
    expect(slow.shown().filter((shown) => shown.endsWith("a"))).toEqual(["start a", "die a", "start a", "die a"]);
  });

  test("an event the same as the one in flight is queued: the handler may have read the state before it", async () => {
    const { engine, bus } = await setup();
    const hold = gate();
    const slow = recorder("slow", undefined, () => hold.promise);
    bus.subscribe(slow.handler);
    await bus.start();
    engine.emit(container("start", A));
    await until(() => slow.seen.length === 1, "the first start in flight");
    engine.emit(container("start", A));
    hold.open();
    await until(() => slow.seen.length === 2, "the second start");
  });
});

describe("EventBus: reconnect", () => {
  test("a cut stream is reopened with since= the last event time to the nanosecond, without a duplicate", async () => {
    const { engine, bus } = await setup();
    const all = recorder("all");
    bus.subscribe(all.handler);
    await bus.start();
    // Past a double's precision: a time that went through a JSON number would come back rounded.
    const first = engine.emit({ ...container("start", A), timeNano: 1718000000123456789n });
    await until(() => all.seen.length === 1, "the first event");
    engine.cut();
    const missed = engine.emit(container("die", A)); // while disconnected
    expect((await engine.waitForRequests(2)).since).toBe("1718000000.123456789");
    await until(() => all.seen.length === 2, "the missed event, replayed");
    engine.cut();
    expect((await engine.waitForRequests(3)).since).toBe(sinceParameter(missed.timeNano));
    engine.emit(container("stop", A));
    await until(() => all.seen.length === 3, "a live event after the second reconnect");
    expect(all.seen.map((event) => event.timeNano)).toEqual([first.timeNano, missed.timeNano, all.seen[2]?.timeNano ?? 0n]);
    expect(all.shown()).toEqual(["start a", "die a", "stop a"]);
  });

  test("every handler resyncs once per reconnect, once the new stream is requested", async () => {
    const { counts, observer } = counter();
    const { engine, bus } = await setup({ observer });
    const warp = recorder("warp");
    const join = recorder("join");
    bus.subscribe(warp.handler);
    bus.subscribe(join.handler);
    await bus.start();
    expect(warp.resyncs).toHaveLength(0);
    for (const reconnect of [1, 2]) {
      engine.cut();
      const request = await engine.waitForRequests(1 + reconnect);
      await until(() => warp.resyncs.length === reconnect && join.resyncs.length === reconnect, `resync ${reconnect}`);
      expect(warp.resyncs[reconnect - 1]?.at).toBeGreaterThanOrEqual(request.at);
      expect(bus.connected).toBe(true);
    }
    await sleep(30);
    expect([warp.resyncs.length, join.resyncs.length, counts.reconnects]).toEqual([2, 2, 2]);
  });

  test("reconnect delays grow exponentially up to the cap, and start over after a success", async () => {
    const { engine, bus } = await setup({ backoff: { initialMs: 30, maxMs: 120, jitter: 0 } });
    await bus.start();
    engine.fail(500);
    const cutAt = performance.now();
    engine.cut();
    await engine.waitForRequests(7);
    const times = [cutAt, ...engine.requests.slice(1, 7).map((request) => request.at)];
    const delays = times.slice(1).map((at, index) => at - (times[index] ?? 0));
    // Lower bounds: the schedule 30, 60, 120, 120, 120, 120 (timers may fire a little late, never much early).
    [30, 60, 120, 120, 120, 120].forEach((nominal, index) => expect(delays[index]).toBeGreaterThanOrEqual(nominal - 5));
    // Upper bounds, generous: uncapped, the last two would be 960 and 1920.
    expect(delays[4]).toBeLessThan(480);
    expect(delays[5]).toBeLessThan(480);
    expect(bus.connected).toBe(false);
    expect(bus.lastError).toContain("500");
    engine.fail(undefined);
    await until(() => bus.connected, "reconnected");
    const again = performance.now();
    engine.cut();
    const next = await engine.waitForRequests(engine.requests.length + 1);
    expect(next.at - again).toBeGreaterThanOrEqual(25);
    expect(next.at - again).toBeLessThan(115);
  });

  test("health: connected, since when, and the last error", async () => {
    const { engine, bus } = await setup();
    expect([bus.connected, bus.connectedSince, bus.lastError]).toEqual([false, undefined, undefined]);
    await bus.start();
    expect(bus.connected).toBe(true);
    expect(bus.connectedSince).toBeInstanceOf(Date);
    await engine.down();
    await until(() => !bus.connected, "disconnected");
    expect(bus.connectedSince).toBeUndefined();
    expect(bus.lastError).toBeString();
    await engine.up();
    await until(() => bus.connected, "reconnected");
  });

  test("start rejects with a clear error when the engine cannot be reached", async () => {
    const { engine, bus } = await setup();
    await engine.down();
    await expect(bus.start()).rejects.toMatchObject({ code: "DOCKER_UNREACHABLE" });
    expect(bus.lastError).toContain("cannot reach the Docker engine");
    expect(bus.connected).toBe(false);
    await engine.up();
    await bus.start();
    expect(bus.connected).toBe(true);
  });
});

describe("EventBus: stop", () => {
  test("stop while waiting to reconnect resolves at once; no request reaches the engine afterwards", async () => {
    const { engine, bus } = await setup({ backoff: { initialMs: 400, maxMs: 400, jitter: 0 } });
    await bus.start();
    await engine.down();
    await until(() => !bus.connected, "the stream lost");
    const stopAt = performance.now();
    await bus.stop();
    expect(performance.now() - stopAt).toBeLessThan(200);
    await engine.up();
    await sleep(600);
    expect(engine.requests).toHaveLength(1);
  });

  test("stop between failed attempts: nothing is retried afterwards", async () => {
    const { engine, bus } = await setup({ backoff: { initialMs: 10, maxMs: 40, jitter: 0 } });
    await bus.start();
    engine.fail(500);
    engine.cut();
    await engine.waitForRequests(4);
    await bus.stop();
    const count = engine.requests.length;
    engine.fail(undefined);
    await sleep(150);
    expect(engine.requests).toHaveLength(count);
    expect(bus.connected).toBe(false);
  });

  test("stop with an events request in flight resolves at once; the late stream is closed, nothing opened after", async () => {
    const { engine, bus } = await setup();
    const all = recorder("all");
    bus.subscribe(all.handler);
    await bus.start();
    engine.hold();
    engine.cut();
    await engine.waitForRequests(2);
    const stopAt = performance.now();
    await bus.stop();
    expect(performance.now() - stopAt).toBeLessThan(200);
    engine.emit(container("start", A));
    engine.release();
    await until(() => engine.openStreams === 0, "the late stream closed by the bus");
    await sleep(100);
    expect(engine.requests).toHaveLength(2);
    expect(bus.connected).toBe(false);
    expect(all.seen).toHaveLength(0);
  });

  test("stop waits for deliveries already running and drops the queued ones", async () => {
    const { engine, bus } = await setup();
    const hold = gate();
    const slow = recorder("slow", undefined, () => hold.promise);
    bus.subscribe(slow.handler);
    await bus.start();
    engine.emit(container("start", A));
    engine.emit(container("die", A));
    await until(() => slow.seen.length === 1, "the first event in flight");
    let stopped = false;
    const stopping = bus.stop().then(() => (stopped = true));
    await sleep(30);
    expect(stopped).toBe(false);
    hold.open();
    await stopping;
    expect(slow.shown()).toEqual(["start a"]);
  });
});

test("a bus per engine: each sees its own engine's events", async () => {
  const first = await setup();
  const second = await setup();
  const one = recorder("one");
  const two = recorder("two");
  first.bus.subscribe(one.handler);
  second.bus.subscribe(two.handler);
  await Promise.all([first.bus.start(), second.bus.start()]);
  first.engine.emit(container("start", A));
  second.engine.emit(container("start", B));
  await until(() => one.seen.length === 1 && two.seen.length === 1, "one event each");
  expect([one.shown(), two.shown()]).toEqual([["start a"], ["start b"]]);
});
