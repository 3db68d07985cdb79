/**
 * The reading side of the container channel, shared by the manager and the agent: the chunks of a
 * socket cut into lines (at most `maxFrameBytes` each) and the lines decoded into frames.
 */
import { decodeFrame, maxFrameBytes, type Frame } from "./frames.ts";
import { LineSplitter, type LineItem } from "./line-splitter.ts";

/** What a chunk of input yields: a frame, a malformed line (the connection may go on), or an over-long line. */
export type ReadItem =
  | { kind: "frame"; frame: Frame }
  | { kind: "invalid"; line: string; error: Error; id?: string }
  | { kind: "overflow"; error: Error };

/** One line (or overflow) of {@link FrameReader.lines} decoded; undefined for a blank line, which is skipped. */
export function readLine(item: LineItem): ReadItem | undefined {
  if (item.kind === "overflow") return item;
  if (item.line.trim() === "") return undefined;
  const decoded = decodeFrame(item.line);
  if (decoded.ok) return { kind: "frame", frame: decoded.frame };
  return { kind: "invalid", line: item.line, error: decoded.error, ...(decoded.id === undefined ? {} : { id: decoded.id }) };
}

/**
 * Turns the chunks read from a socket into frames. It never holds more than `maxFrameBytes`: a
 * longer line is reported as `overflow` as soon as it is known, so the caller can drop the peer.
 */
export class FrameReader {
  readonly #lines: LineSplitter;

  constructor(options: { maxBytes?: number } = {}) {
    this.#lines = new LineSplitter(options.maxBytes ?? maxFrameBytes);
  }

  /** The bytes held while waiting for a newline. */
  get bufferedBytes(): number {
    return this.#lines.bufferedBytes;
  }

  /** Takes the next chunk (Buffer or string); blank lines are skipped. */
  push(chunk: Uint8Array | string): ReadItem[] {
    const items: ReadItem[] = [];
    for (const line of this.#lines.push(chunk)) {
      const item = readLine(line);
      if (item) items.push(item);
    }
    return items;
  }

  /**
   * Takes the next chunk and leaves its lines undecoded: a reader that decodes them a few at a
   * time ({@link readLine}) does not hold the event loop for a whole chunk of a flood.
   */
  lines(chunk: Uint8Array | string): LineItem[] {
    return this.#lines.push(chunk);
  }
}
