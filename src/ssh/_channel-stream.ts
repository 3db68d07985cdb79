import { Duplex } from "node:stream";
import type { ClientChannel } from "ssh2";

/** For an exec channel: turns a failed exit into the error the stream is destroyed with. */
export type ExitCheck = (status: { code: number | null; signal?: string; stderr: string }) => Error | undefined;

/** How much of an exec channel's stderr is kept for messages. */
const STDERR_KEPT = 4096;

/**
 * One SSH channel as a plain `Duplex` with TCP-like half-close:
 *
 * - `end()` sends the channel's EOF once everything written is sent; reading goes on until the
 *   server's EOF (ssh2's client channels are `allowHalfOpen`, so its EOF never closes the channel
 *   by itself; this stream is `allowHalfOpen` too).
 * - The server's EOF ends the readable side; the writable side stays open.
 * - Writes after the server closed the channel are dropped, not errors (the server no longer
 *   reads them, like data sent after a peer's close): a relay can still deliver everything the
 *   server sent before, instead of tearing the connection down on a late write.
 * - `destroy()` closes the channel both ways at once (SSH CHANNEL_CLOSE).
 * - Backpressure goes both ways: a reader that stops reading stops the SSH window, a full
 *   channel makes `write()` return false.
 *
 * Unlike ssh2's channel, which ends cleanly when the SSH connection drops, the owner destroys this
 * stream with an SSH_CLOSED error then (see `SshLink`), so a relay can tell a lost connection from
 * an EOF and reset its own side instead of passing on a clean end.
 */
export class ChannelStream extends Duplex {
  readonly #channel: ClientChannel;
  #serverClosed = false;
  #waitingWrite: (() => void) | undefined;

  constructor(channel: ClientChannel, exitCheck?: ExitCheck) {
    // ssh2 delivers up to 32 KiB per packet: a larger buffer than the default saves pause/resume turns.
    super({ allowHalfOpen: true, readableHighWaterMark: 128 * 1024 });
    this.#channel = channel;
    channel.on("data", (chunk: Buffer) => {
      if (!this.destroyed && !this.push(chunk)) channel.pause();
    });
    channel.on("end", () => {
      if (!this.destroyed) this.push(null);
    });
    channel.on("drain", () => this.#releaseWrite());
    channel.on("close", () => {
      this.#serverClosed = true;
      this.#releaseWrite();
    });
    channel.on("error", (error: Error) => this.destroy(error));
    if (exitCheck) this.#watchExit(channel, exitCheck);
  }

  #watchExit(channel: ClientChannel, exitCheck: ExitCheck): void {
    let stderr = "";
    // Unread stderr would hold the channel's window (shared with stdout) shut.
    channel.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk.toString("utf8").slice(0, STDERR_KEPT - stderr.length);
    });
    let status: { code: number | null; signal?: string } | undefined;
    channel.on("exit", (code: number | null, signal?: string) => (status = { code, signal }));
    // OpenSSH sends the exit status before closing the channel: by now it is known.
    channel.on("close", () => {
      const failure = status && exitCheck({ ...status, stderr: stderr.trim() });
      if (failure && !this.destroyed) this.destroy(failure);
    });
  }

  #releaseWrite(): void {
    const callback = this.#waitingWrite;
    this.#waitingWrite = undefined;
    callback?.();
  }

  override _read(): void {
    this.#channel.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#serverClosed) return callback();
    if (this.#channel.write(chunk)) callback();
    else this.#waitingWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#serverClosed) return callback();
    const done = () => {
      this.#channel.off("finish", done).off("close", done);
      callback();
    };
    this.#channel.once("finish", done).once("close", done);
    this.#channel.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#releaseWrite();
    // ssh2's own destroy() is end() + close(): EOF if still open, then CHANNEL_CLOSE.
    this.#channel.close();
    callback(error);
  }
}
