// A hostile or broken engine on the far side of a bridge (src/docker/events.ts LineSplitter, the
// shared event connection): an events line over the cap (1 MiB) is dropped as it arrives, never
// held whole; the events after it still arrive, and every handler looks at everything again.
import { afterEach, describe, expect, test } from "bun:test";
import { DockerClient } from "../../src/docker/client.ts";
import { EventBus } from "../../src/docker/event-bus.ts";
import { LineSplitter, MAX_EVENT_LINE } from "../../src/docker/events.ts";
import type { DockerEvent } from "../../src/docker/types.ts";
import { ScriptedEngine } from "../support/scripted-engine.ts";
import { waitUntil } from "../support/wait.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("an events line over the cap", () => {
  test("the splitter drops it in pieces (holding at most the cap) and reads the next line", () => {
    let overflows = 0;
    const splitter = new LineSplitter({ maxChars: 100, onOverflow: () => overflows++ });
    expect(splitter.push(`{"a":1}\n${"x".repeat(60)}`)).toEqual(['{"a":1}']);
    expect(splitter.push("x".repeat(60))).toEqual([]);
    expect(overflows).toBe(1);
    expect(splitter.push("x".repeat(5000))).toEqual([]);
    expect(splitter.push(`xx\n{"b":2}\n`)).toEqual(['{"b":2}']);
    expect(splitter.push(`${"y".repeat(150)}\n{"c":3}\n`)).toEqual(['{"c":3}']);
    expect(overflows).toBe(2);
  });

  test("a 10 MiB event does not wedge the stream: the next event arrives, the handler resyncs, a warning is logged", async () => {
    const engine = await ScriptedEngine.start();
    cleanups.push(() => engine.close());
    const bus = new EventBus(new DockerClient(engine.host), { backoff: { initialMs: 20, maxMs: 100 } });
    cleanups.push(() => bus.stop());
    const seen: DockerEvent[] = [];
    let resyncs = 0;
    bus.subscribe({ name: "bridge", onEvent: (event) => void seen.push(event), onResync: () => void resyncs++ });
    await bus.start();
    engine.emit({ type: "container", action: "start", id: "a".repeat(64), attributes: { name: "huge", blob: "x".repeat(10 * 1024 * 1024) } });
    engine.emit({ type: "container", action: "start", id: "b".repeat(64), attributes: { name: "after" } });
    await waitUntil(() => seen.some((event) => event.name === "after"), 10_000, "the event after the huge one");
    expect(seen.map((event) => event.name)).toEqual(["after"]);
    expect(resyncs).toBe(1);
    expect(MAX_EVENT_LINE).toBe(1024 * 1024);
  });
});
