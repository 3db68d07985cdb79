import type { DockerEvent } from "./types.ts";

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** Parses one line of the Docker events stream into a typed event; `undefined` for junk. */
export function parseEvent(line: string): DockerEvent | undefined {
  let raw: RawEvent;
  try {
    raw = JSON.parse(line) as RawEvent;
  } catch {
    return undefined;
  }
  const attributes = raw.Actor?.Attributes ?? {};
  const type = raw.Type === "container" || raw.Type === "network" ? raw.Type : "other";
  // Actions such as "exec_start: sh -c ..." or "health_status: healthy" carry a suffix.
  const action = (raw.Action ?? raw.status ?? "").split(":")[0] ?? "";
  const timeNano = raw.timeNano !== undefined ? BigInt(Math.trunc(raw.timeNano)) : BigInt(Math.trunc(raw.time ?? 0)) * 1_000_000_000n;
  return { type, action, id: raw.Actor?.ID ?? raw.id ?? "", name: attributes.name ?? "", attributes, timeNano };
}

/** Docker's `since=` form of a nanosecond time: `seconds.nanoseconds`. */
export function sinceParameter(timeNano: bigint): string {
  const seconds = timeNano / 1_000_000_000n;
  const nanos = timeNano % 1_000_000_000n;
  return `${seconds}.${nanos.toString().padStart(9, "0")}`;
}

/**
 * The key that orders an event: the container it is about (network connect/disconnect events
 * name the container in their attributes), else the network.
 */
export function eventKey(event: DockerEvent): string {
  if (event.type === "network" && event.attributes.container) return event.attributes.container;
  return event.id;
}

/** Splits a byte stream into lines, keeping a partial last line for the next chunk. */
export class LineSplitter {
  #rest = "";

  push(chunk: string): string[] {
    const text = this.#rest + chunk;
    const lines = text.split("\n");
    this.#rest = lines.pop() ?? "";
    return lines.filter((line) => line.trim() !== "");
  }
}
