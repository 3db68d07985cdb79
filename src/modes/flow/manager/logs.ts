/**
 * The `logs` request: the last lines of a container's log within one reply's limit, or (with
 * `follow`) `log` events to that client within its budget, read no faster than a container's
 * channel is.
 */
import { Buffer } from "node:buffer";
import { demuxLines } from "../../../docker/log-lines.ts";
import type { Session } from "./api.ts";
import { RateGate } from "./_rate-gate.ts";
import { agentBytesPerSecond } from "./_agent-connection.ts";

/** The most a `logs` reply carries: 1 MiB of JSON, like every frame and payload. */
export const maxLogsReplyBytes = 1024 * 1024;
/** Room kept for the reply's other fields. */
const replyOverhead = 1024;
/** `{"stream":"stderr","line":""},` around each line. */
const entryOverhead = 32;

type Line = { stream: string; line: string };
type Container = { id: string; name: string };

/**
 * The newest lines of `stream` that fit in {@link maxLogsReplyBytes}: older ones are let go as
 * newer ones come, so the manager never holds more than one reply's worth (plus one line).
 */
export async function tailLines(stream: NodeJS.ReadableStream): Promise<{ lines: Line[]; truncated: boolean; omitted_lines: number }> {
  const kept: { entry: Line; bytes: number }[] = [];
  let first = 0;
  let bytes = 0;
  let omitted = 0;
  const limit = maxLogsReplyBytes - replyOverhead;
  const onChunk = demuxLines((which, line) => {
    // JSON escapes can make a line longer than its bytes: count it as it will be sent.
    const size = Buffer.byteLength(JSON.stringify(line), "utf8") + entryOverhead;
    kept.push({ entry: { stream: which, line }, bytes: size });
    bytes += size;
    while (bytes > limit && first < kept.length) {
      bytes -= (kept[first] as { bytes: number }).bytes;
      first++;
      omitted++;
    }
    if (first > 4096) {
      kept.splice(0, first);
      first = 0;
    }
  });
  await new Promise<void>((resolve, reject) => stream.on("data", (chunk: Buffer) => onChunk(chunk)).on("end", resolve).on("error", reject));
  const lines = kept.slice(first).map((item) => item.entry);
  return { lines, truncated: omitted > 0, omitted_lines: omitted };
}

/**
 * Sends each line of `stream` to `session` as a `log` event until either ends. The stream is
 * read at a container channel's pace: a container flooding its log costs the manager no more
 * than one flooding its socket.
 */
export function followLines(stream: NodeJS.ReadableStream, container: Container, session: Session): void {
  const close = () => (stream as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
  const gate = new RateGate(agentBytesPerSecond, 2 * agentBytesPerSecond);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onChunk = demuxLines((which, line) => session.sendLog(container, { container_id: container.id, name: container.name, stream: which, line }));
  stream.on("data", (chunk: Buffer) => {
    onChunk(chunk);
    gate.take(chunk.length);
    const waitMs = gate.waitMs();
    if (waitMs === 0 || timer !== undefined) return;
    stream.pause();
    timer = setTimeout(() => {
      timer = undefined;
      stream.resume();
    }, waitMs);
  });
  const stop = () => {
    clearTimeout(timer);
    close();
  };
  stream.on("error", stop);
  const forget = session.onClose(stop);
  stream.on("end", () => {
    clearTimeout(timer);
    forget();
  });
}
