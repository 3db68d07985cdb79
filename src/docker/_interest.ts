/**
 * What a handler asks of the events stream, and how the stream's filters cover every handler:
 * the engine gets the union, the bus matches each event against each handler's own interest.
 */
import type { DockerEvent } from "./types.ts";

/** The event types a handler can ask for. */
export type EventType = "container" | "network";

/**
 * The events a handler wants. An absent or empty list means the default, as an empty list does
 * in Docker's filters: both types, `defaultActions`, any labels.
 */
export interface EventInterest {
  types?: EventType[];
  /** Bare actions (`health_status`, not `health_status: healthy`): events are matched on the part before the colon. */
  actions?: string[];
  /**
   * Docker `label` filter values, `key` or `key=value`; an event matching any one is wanted. They
   * narrow container events only: a network event's attributes are the network's name and type
   * and the moved container's id, never the container's labels, so a container label can never
   * select the network connect/disconnect of that container. Network events the handler asked for
   * by type pass regardless of its labels.
   */
  labels?: string[];
}

/** The container and network actions handlers get when they name none (exec and health noise left to the engine). */
export const defaultActions: readonly string[] = ["connect", "create", "destroy", "die", "disconnect", "kill", "pause", "rename", "restart", "start", "stop", "unpause"];
const defaultTypes: readonly EventType[] = ["container", "network"];

/** The `filters` of an events request. */
export type StreamFilters = { type: string[]; event: string[]; label?: string[] };

function typesOf(interest: EventInterest): readonly EventType[] {
  return interest.types?.length ? interest.types : defaultTypes;
}

function actionsOf(interest: EventInterest): readonly string[] {
  return interest.actions?.length ? interest.actions : defaultActions;
}

function hasLabel(attributes: Record<string, string>, filter: string): boolean {
  const at = filter.indexOf("=");
  if (at < 0) return filter in attributes;
  return attributes[filter.slice(0, at)] === filter.slice(at + 1);
}

/** Whether a handler with this interest wants the event (see EventInterest for labels and network events). */
export function matchesInterest(event: DockerEvent, interest: EventInterest = {}): boolean {
  if (event.type === "other" || !typesOf(interest).includes(event.type) || !actionsOf(interest).includes(event.action)) return false;
  if (event.type !== "container" || !interest.labels?.length) return true;
  return interest.labels.some((filter) => hasLabel(event.attributes, filter));
}

/**
 * The one `label` value the engine may filter on, if any. Docker ANDs the values of `label`
 * (all must match, unlike `type` and `event` whose values it ORs), and a handler's labels are
 * ORed, so at most one value can be sent, and only one every wanted event carries: the label
 * itself when all handlers name that same one, else a key that every label of every handler has.
 * Never when a handler wants network events: the engine matches `label` against every event's
 * attributes, and network events do not carry container labels.
 */
function commonLabel(interests: EventInterest[], types: string[]): string | undefined {
  if (types.includes("network")) return undefined;
  const labels = new Set<string>();
  for (const interest of interests) {
    if (!interest.labels?.length) return undefined;
    for (const label of interest.labels) labels.add(label);
  }
  if (labels.size === 1) return [...labels][0];
  const keys = new Set([...labels].map((label) => label.split("=")[0]));
  return keys.size === 1 ? [...keys][0] : undefined;
}

/**
 * The filters that ask the engine for the union of the interests: a superset of what each one
 * wants (the bus then matches each event against each handler's own interest). With no
 * interest at all, the default one: the modes of `runDaemon` subscribe after start and declare
 * none, so their subscriptions do not reopen the stream.
 */
export function streamFilters(interests: EventInterest[]): StreamFilters {
  const all = interests.length > 0 ? interests : [{}];
  const type = [...new Set(all.flatMap(typesOf))].sort();
  const event = [...new Set(all.flatMap(actionsOf))].sort();
  const label = commonLabel(all, type);
  return label === undefined ? { type, event } : { type, event, label: [label] };
}

/** Whether a stream opened with `open` already brings every event `wanted` asks for. */
export function covers(open: StreamFilters, wanted: StreamFilters): boolean {
  if (!wanted.type.every((type) => open.type.includes(type)) || !wanted.event.every((event) => open.event.includes(event))) return false;
  const [openLabel] = open.label ?? [];
  const [wantedLabel] = wanted.label ?? [];
  if (openLabel === undefined) return true;
  if (wantedLabel === undefined) return false;
  return wantedLabel === openLabel || (!openLabel.includes("=") && wantedLabel.split("=")[0] === openLabel);
}

