import { describe, expect, test } from "bun:test";
import type { DockerEvent } from "../../src/docker/types.ts";
import { containerMessage, isoTime, toldOfEvent } from "../../src/modes/flow/manager/told.ts";

const id = "a".repeat(64);
const now = new Date("2026-01-02T03:04:05.678Z");
/** 2026-01-01T00:00:00.123Z in nanoseconds. */
const timeNano = 1767225600123000000n;

function event(action: string, attributes: Record<string, string> = {}, name = "web-1"): DockerEvent {
  return { type: "container", action, id, name, attributes, timeNano };
}

describe("what clients are told of a Docker event", () => {
  test("a die: exited, with its exit code in the activity line", () => {
    expect(toldOfEvent(event("die", { exitCode: "137" }), "web-1", now)).toEqual([
      { event: "container_state", data: { id, name: "web-1", state: "exited", action: "die", time: "2026-01-01T00:00:00.123Z" } },
      { event: "activity", data: { time: "2026-01-02T03:04:05.678Z", kind: "actor_event", container_id: id, name: "web-1", message: "web-1: die (exit 137)", details: { action: "die" } } },
    ]);
  });

  test("each lifecycle action names the state it leaves", () => {
    const expected = [["create", "created"], ["start", "running"], ["restart", "running"], ["unpause", "running"], ["pause", "paused"], ["die", "exited"], ["stop", "exited"], ["destroy", "removed"]];
    const stateAfter = (action: string) => (toldOfEvent(event(action), "web-1", now)[0]?.data as { state: string }).state;
    expect(expected.map(([action = ""]) => [action, stateAfter(action)])).toEqual(expected);
  });

  test("an action that says no state is unknown; no exit code but on die", () => {
    const [state, line] = toldOfEvent(event("rename", { exitCode: "1" }), "web-2", now);
    expect(state).toEqual({ event: "container_state", data: { id, name: "web-2", state: "unknown", action: "rename", time: "2026-01-01T00:00:00.123Z" } });
    expect(line?.data).toMatchObject({ kind: "actor_event", name: "web-2", message: "web-2: rename" });
  });

  test("a container's own message, for its subscribers", () => {
    expect(containerMessage({ id, name: "web-1" }, "progress", { done: 3 }, now.toISOString())).toEqual({ container_id: id, name: "web-1", command: "progress", data: { done: 3 }, time: "2026-01-02T03:04:05.678Z" });
  });

  test("isoTime: the same text within a millisecond, the next millisecond's after it", () => {
    const at = Date.parse("2026-01-02T03:04:05.678Z");
    const first = isoTime(at);
    expect(first).toBe("2026-01-02T03:04:05.678Z");
    expect(isoTime(at)).toBe(first);
    expect(isoTime(at + 1)).toBe("2026-01-02T03:04:05.679Z");
    expect(isoTime(at)).toBe("2026-01-02T03:04:05.678Z");
    expect(Date.parse(isoTime())).toBeGreaterThanOrEqual(at);
  });
});
