/**
 * The frames of the container channel, shared by the manager and the agent: newline-delimited
 * JSON, one frame a line, at most `maxFrameBytes` UTF-8 bytes a line (its newline not counted).
 * The manager sends requests; the container answers with responses and sends events unasked.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";

/** The largest frame either side sends or accepts: 1 MiB of UTF-8, the newline not counted. */
export const maxFrameBytes = 1024 * 1024;

/** One message on the channel. */
export interface Frame {
  id?: string;
  type: "request" | "response" | "event";
  command?: string;
  data?: unknown;
  error?: string;
}

const id = (what: string) => v.pipe(v.string(`${what} needs an id (a string)`), v.nonEmpty(`${what} needs a non-empty id`));
const command = (what: string) => v.pipe(v.string(`${what} needs a command (a string)`), v.nonEmpty(`${what} needs a non-empty command`));
const optionalId = v.optional(v.string("id must be a string"));
const optionalCommand = v.optional(v.string("command must be a string"));
const data = v.optional(v.unknown());
const error = v.optional(v.string("error must be a string"));

/** The message for a required key that is absent (valibot reports those on the object). */
const needs = (what: string) => (issue: v.ObjectIssue) => {
  const key = issue.expected?.replace(/"/g, "");
  return key === "id" ? `${what} needs an id` : key === "command" ? `${what} needs a command` : `${what} is invalid`;
};

/**
 * What a frame may be. Unknown keys are dropped rather than refused, so that either side may add
 * fields later. Exported for the test that holds {@link validFrame} to it.
 */
export const frameSchema = v.variant(
  "type",
  [
    v.object({ type: v.literal("request"), id: id("a request"), command: command("a request"), data, error }, needs("a request")),
    v.object({ type: v.literal("response"), id: id("a response"), command: optionalCommand, data, error }, needs("a response")),
    v.object({ type: v.literal("event"), id: optionalId, command: command("an event"), data, error }, needs("an event")),
  ],
  (issue) => (issue.input === undefined ? "a frame needs a type" : `type must be "request", "response" or "event", not ${JSON.stringify(issue.input)?.slice(0, 40)}`),
);

/**
 * The frame a parsed value is, when it is a valid one; undefined otherwise. What `frameSchema`
 * accepts, checked by hand: every response and every event of a flood passes here, and valibot's
 * variant costs several times the JSON.parse before it. Only a value this refuses is given to
 * valibot, for its message. The frame holds the schema's keys in its order, unknown ones dropped.
 */
export function validFrame(value: Record<string, unknown>): Frame | undefined {
  const { type, id, command, data, error } = value;
  if (type !== "request" && type !== "response" && type !== "event") return undefined;
  if ((id !== undefined && typeof id !== "string") || (command !== undefined && typeof command !== "string") || (error !== undefined && typeof error !== "string")) return undefined;
  // A request and a response need an id, a request and an event a command; none of them empty.
  if ((type !== "event" && !id) || (type !== "response" && !command)) return undefined;
  const frame: Frame = { type };
  if (id !== undefined) frame.id = id;
  if (command !== undefined) frame.command = command;
  if ("data" in value) frame.data = data;
  if (error !== undefined) frame.error = error;
  return frame;
}

/** A line decoded: the frame, or what is wrong with it (and its id if it had one, to answer). */
export type Decoded = { ok: true; frame: Frame } | { ok: false; error: Error; id?: string };

/** Decodes one line without throwing. */
export function decodeFrame(line: string): Decoded {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most lines need no count.
  const bytes = line.length * 3 <= maxFrameBytes ? 0 : Buffer.byteLength(line, "utf8");
  if (bytes > maxFrameBytes) return { ok: false, error: new Error(`frame is ${bytes} bytes, over the limit of ${maxFrameBytes}`) };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    return { ok: false, error: new Error(`frame is not JSON: ${(cause as Error).message}`) };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, error: new Error(`frame is not a JSON object but ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`) };
  }
  const frame = validFrame(value as Record<string, unknown>);
  if (frame) return { ok: true, frame };
  const result = v.safeParse(frameSchema, value);
  if (result.success) {
    // valibot keeps an absent optional key absent, so the frame round-trips as it came.
    return { ok: true, frame: result.output as Frame };
  }
  const raw = (value as { id?: unknown }).id;
  const message = result.issues[0]?.message ?? "frame is invalid";
  return { ok: false, error: new Error(`invalid frame: ${message}`), ...(typeof raw === "string" && raw !== "" ? { id: raw } : {}) };
}

/** Parses and validates one line (its newline already cut off); throws an Error naming the fault. */
export function parseFrame(line: string): Frame {
  const decoded = decodeFrame(line);
  if (!decoded.ok) throw decoded.error;
  return decoded.frame;
}

/** The line to write for a frame: JSON and a newline. Throws when it is over `maxFrameBytes`. */
export function encodeFrame(frame: Frame): string {
  const json = JSON.stringify(frame);
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > maxFrameBytes) throw new Error(`frame is ${bytes} bytes, over the limit of ${maxFrameBytes}`);
  return `${json}\n`;
}
