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
 * - The server's EOF ends the readable side; the writable side stays open. (On an exec channel
 *   the end waits for the exit status, and a failed exit is an error instead.)
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
  readonly #exitCheck: ExitCheck | undefined;
  #serverClosed = false;
  #serverEof = false;
  #ended = false;
  #status: { code: number | null; signal?: string } | undefined;
  #stderr = "";
  #waitingWrite: (() => void) | undefined;

  constructor(channel: ClientChannel, exitCheck?: ExitCheck) {
    // ssh2 delivers up to 32 KiB per packet: a larger buffer than the default saves pause/resume turns.
    super({ allowHalfOpen: true, readableHighWaterMark: 128 * 1024 });
    this.#channel = channel;
    this.#exitCheck = exitCheck;
    channel.on("data", (chunk: Buffer) => {
      if (!this.destroyed && !this.push(chunk)) channel.pause();
    });
    channel.on("end", () => {
      this.#serverEof = true;
      this.#deliverEnd();
    });
    channel.on("drain", () => this.#releaseWrite());
    channel.on("close", () => {
      this.#serverClosed = true;
      this.#releaseWrite();
      this.#deliverEnd();
    });
    channel.on("error", (error: Error) => this.destroy(error));
    if (exitCheck) {
      // Unread stderr would hold the channel's window (shared with stdout) shut.
      channel.stderr.on("data", (chunk: Buffer) => {
        if (this.#stderr.length < STDERR_KEPT) this.#stderr += chunk.toString("utf8").slice(0, STDERR_KEPT - this.#stderr.length);
      });
      channel.on("exit", (code: number | null, signal?: string) => {
        this.#status = { code, signal };
        this.#deliverEnd();
      });
    }
  }

  /**
   * Passes the server's EOF on. For an exec channel it waits for the exit status first (a command
   * like dial-stdio exits right after its output ends), so a failed command is an error, never a
   * clean but empty end.
   */
  #deliverEnd(): void {
    if (!this.#serverEof || this.#ended || this.destroyed) return;
    if (this.#exitCheck) {
      if (!this.#status && !this.#serverClosed) return;
      const failure = this.#status && this.#exitCheck({ ...this.#status, stderr: this.#stderr.trim() });
      if (failure) return void this.destroy(failure);
    }
    this.#ended = true;
    this.push(null);
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
    this.#channel.close(); // CHANNEL_CLOSE: the server stops both ways
    this.#channel.resume(); // let what is still buffered drain, so ssh2 finishes the channel
    callback(error);
  }
}
