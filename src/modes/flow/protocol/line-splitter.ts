/**
 * Splits a byte stream into lines, with a cap on the length of a line. Shared by the frame reader
 * (the container socket) and the agent's relay (a command's stdout).
 */
import { Buffer } from "node:buffer";

/** A complete line (without its newline), or the news that a line went over the cap. */
export type LineItem = { kind: "line"; line: string } | { kind: "overflow"; error: Error };

const newline = 0x0a;

/**
 * Works on bytes, not text: a newline byte never occurs inside a multi-byte UTF-8 sequence, so
 * cutting at newline bytes and decoding whole lines is safe wherever the chunks were split.
 */
export class LineSplitter {
  readonly #maxBytes: number;
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** After an overflow: throw bytes away until the next newline, then read lines again. */
  #skipping = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The bytes held while waiting for a newline; never more than the cap. */
  get bufferedBytes(): number {
    return this.#heldBytes;
  }

  /** Takes the next chunk; returns the lines it completed and at most one overflow per long line. */
  push(chunk: Uint8Array | string): LineItem[] {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const items: LineItem[] = [];
    let start = 0;
    for (let end = bytes.indexOf(newline, start); end !== -1; end = bytes.indexOf(newline, start)) {
      if (this.#skipping) this.#skipping = false;
      else this.#take(bytes.subarray(start, end), items, true);
      start = end + 1;
    }
    if (start < bytes.length && !this.#skipping) this.#take(bytes.subarray(start), items, false);
    return items;
  }

  /** The end of the stream: a last line without a newline still counts. */
  end(): LineItem[] {
    const items: LineItem[] = [];
    if (this.#heldBytes > 0 && !this.#skipping) items.push({ kind: "line", line: this.#release().toString("utf8") });
    this.#reset();
    return items;
  }

  #take(part: Buffer, items: LineItem[], complete: boolean): void {
    if (this.#heldBytes + part.length > this.#maxBytes) {
      // Report it as soon as the line is known to be too long, and keep none of it.
      items.push({ kind: "overflow", error: new Error(`a line is longer than ${this.#maxBytes} bytes`) });
      this.#reset();
      this.#skipping = !complete;
      return;
    }
    if (!complete) {
      // Copy: the caller may reuse the chunk's memory.
      this.#held.push(Buffer.from(part));
      this.#heldBytes += part.length;
      return;
    }
    const whole = this.#heldBytes === 0 ? part : Buffer.concat([this.#release(), part]);
    this.#reset();
    items.push({ kind: "line", line: whole.toString("utf8") });
  }

  #release(): Buffer {
    return this.#held.length === 1 ? (this.#held[0] as Buffer) : Buffer.concat(this.#held);
  }

  #reset(): void {
    this.#held = [];
    this.#heldBytes = 0;
  }
}
