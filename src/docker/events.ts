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

/** The longest events line kept (a hostile or broken engine must not grow memory without end). */
export const MAX_EVENT_LINE = 1024 * 1024;

/**
 * Splits a byte stream into lines, keeping a partial last line (and a partial UTF-8 character) for
 * the next chunk. A line longer than `maxChars` is dropped as it arrives (never held whole) and
 * `onOverflow` told once; reading goes on at the next line.
 */
export class LineSplitter {
  #rest = "";
  #skipping = false;
  readonly #decoder = new TextDecoder();
  readonly #maxChars: number;
  readonly #onOverflow: () => void;

  constructor(options: { maxChars?: number; onOverflow?: () => void } = {}) {
    this.#maxChars = options.maxChars ?? MAX_EVENT_LINE;
    this.#onOverflow = options.onOverflow ?? (() => {});
  }

  push(chunk: string | Uint8Array): string[] {
    let text = typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (this.#skipping) {
      const end = text.indexOf("\n");
      if (end === -1) return [];
      this.#skipping = false;
      text = text.slice(end + 1);
    }
    const lines = (this.#rest + text).split("\n");
    this.#rest = lines.pop() ?? "";
    if (this.#rest.length > this.#maxChars) {
      this.#rest = "";
      this.#skipping = true;
      this.#onOverflow();
    }
    return lines.filter((line) => {
      if (line.length <= this.#maxChars) return line.trim() !== "";
      this.#onOverflow();
      return false;
    });
  }
}
