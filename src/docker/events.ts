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
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const raw = parsed as RawEvent;
  const id = raw.Actor?.ID ?? raw.id;
  if (typeof id !== "string" || id === "") return undefined;
  const attributes = raw.Actor?.Attributes ?? {};
  const type = raw.Type === "container" || raw.Type === "network" ? raw.Type : "other";
  // Actions such as "exec_start: sh -c ..." or "health_status: healthy" carry a suffix.
  const action = (raw.Action ?? raw.status ?? "").split(":")[0] ?? "";
  return { type, action, id, name: attributes.name ?? "", attributes, timeNano: eventTime(line, raw) };
}

/**
 * The event time in nanoseconds, read from the digits of the line: nanoseconds since the epoch
 * exceed a double's precision, and a rounded-up time could make a `since=` replay skip an event.
 */
function eventTime(line: string, raw: RawEvent): bigint {
  const digits = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
  if (digits !== undefined) return BigInt(digits);
  return BigInt(Math.trunc(raw.time ?? 0)) * 1_000_000_000n;
}

/** When an event happened, in milliseconds since the epoch. */
export function eventTimeMs(event: DockerEvent): number {
  return Number(event.timeNano / 1_000_000n);
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

/** Splits a byte stream into lines, keeping a partial last line (and a partial UTF-8 character) for the next chunk. */
export class LineSplitter {
  #rest = "";
  readonly #decoder = new TextDecoder();

  push(chunk: string | Uint8Array): string[] {
    const text = this.#rest + (typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true }));
    const lines = text.split("\n");
    this.#rest = lines.pop() ?? "";
    return lines.filter((line) => line.trim() !== "");
  }
}
