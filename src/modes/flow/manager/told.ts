/**
 * What clients are told when something happens to one of the manager's containers: pure
 * functions of the event, the container's name and the time, so each case is unit-tested.
 */
import type { DockerEvent } from "../../../docker/types.ts";
import { activity, type Activity } from "../protocol/activity.ts";

/** The state a lifecycle event leaves a container in. */
const stateAfter: Record<string, string> = {
  create: "created",
  start: "running",
  restart: "running",
  unpause: "running",
  pause: "paused",
  die: "exited",
  stop: "exited",
  destroy: "removed",
};

/** One event to every client. */
export type Told =
  | { event: "container_state"; data: { id: string; name: string; state: string; action: string; time: string } }
  | { event: "activity"; data: Activity };

/**
 * A Docker event about a container as clients are told it: its state after the event (`unknown`
 * for an action that says none, such as `rename` or `exec_start`) stamped with the event's time,
 * and an `actor_event` activity line stamped `now`. `name` is the container's name as last known.
 */
export function toldOfEvent(event: DockerEvent, name: string, now: Date): Told[] {
  const { id, action } = event;
  const time = new Date(Number(event.timeNano / 1_000_000n)).toISOString();
  const exit = action === "die" && event.attributes.exitCode !== undefined ? ` (exit ${event.attributes.exitCode})` : "";
  return [
    { event: "container_state", data: { id, name, state: stateAfter[action] ?? "unknown", action, time } },
    { event: "activity", data: { ...activity("actor_event", { id, name }, `${name}: ${action}${exit}`, { action }), time: now.toISOString() } },
  ];
}

/** What a container sent unasked, as its subscribers get it (`container_message`); `time` is ISO text. */
export function containerMessage(container: { id: string; name: string }, command: string, data: unknown, time: string) {
  return { container_id: container.id, name: container.name, command, data, time };
}

let stampedAt = Number.NaN;
let stamp = "";

/** The time as ISO text, made once per millisecond: a flood stamps thousands of events a second. */
export function isoTime(now = Date.now()): string {
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}
