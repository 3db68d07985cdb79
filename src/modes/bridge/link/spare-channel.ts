import type { Duplex } from "node:stream";
import type { DialableLink, EngineDialer } from "./engine-dial.ts";

/** At most this many channels wait ahead (each holds a connection to dockerd, idle). */
const MAX_SPARES = 20;
/** Clients waiting at once that count as a burst (one docker command may open two connections). */
const BURST = 3;
/**
 * After this long without a client, the spares a burst asked for go back to one: long enough for
 * the next command of a script or a compose workflow to find them open, short enough that a burst
 * does not keep its connections to dockerd for as long as the link lives.
 */
const SHRINK_AFTER_MS = 90_000;

interface Spare {
  link: DialableLink;
  stream: Promise<Duplex>;
}

/**
 * Channels to the remote engine opened ahead of the next clients, so a new local connection does
 * not wait the round trip of a channel open (what `ssh -L` on a persistent OpenSSH connection
 * costs too, per connection): a client takes a spare, and it is replaced once the server answers
 * that client (see refillOnceAnswered). One waits ahead; after a burst of clients that had to
 * wait together (`docker compose up`, 20 calls at once), as many as that burst (up to
 * MAX_SPARES), so the next burst finds them open; after SHRINK_AFTER_MS without a client, one
 * again. Only with stream-local channels: a dial-stdio spare would hold one of OpenSSH's `MaxSessions`
 * sessions (and a process on the server) for nothing. A spare that went away meanwhile (the link
 * lost, dockerd restarted) is dropped, and the client gets a fresh channel.
 */
export class SpareChannel {
  readonly #dial: EngineDialer;
  #spares: Spare[] = [];
  #wanted = 1;
  #waiting = 0;
  #closed = false;
  readonly #shrinkAfterMs: number;
  #shrinkTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(dial: EngineDialer, options: { shrinkAfterMs?: number } = {}) {
    this.#dial = dial;
    this.#shrinkAfterMs = options.shrinkAfterMs ?? SHRINK_AFTER_MS;
  }

  /** A channel on `link`: a spare when one is ready and usable, else a new one. */
  async take(link: DialableLink): Promise<Duplex> {
    this.#dropOtherLinks(link);
    const spare = this.#spares.shift();
    this.#waiting++;
    if (this.#waiting >= BURST) this.#wanted = Math.min(MAX_SPARES, Math.max(this.#wanted, this.#waiting));
    try {
      if (spare) {
        const stream = await spare.stream.catch(() => undefined);
        if (stream && !stream.destroyed && stream.readable && stream.writable) {
          this.#refillOnceAnswered(link, stream);
          return stream;
        }
        stream?.destroy();
      }
      const fresh = await this.#dial(link);
      // The link's first channel decided stream-local just now: the next clients' can be opened.
      this.#refill(link);
      return fresh;
    } finally {
      this.#waiting--;
      this.#shrinkLater();
    }
  }

  /** No more spares; those waiting are closed. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#shrinkTimer);
    this.#dropOtherLinks(undefined);
  }

  /** A burst's spares are kept for the next burst, not for ever: each client moves the shrink later. */
  #shrinkLater(): void {
    clearTimeout(this.#shrinkTimer);
    if (this.#wanted <= 1 || this.#closed) return;
    this.#shrinkTimer = setTimeout(() => {
      if (this.#waiting > 0) return; // that client's take moves it later again
      this.#wanted = 1;
      // The oldest is kept: clients take spares in the order they were opened.
      for (const spare of this.#spares.splice(1)) void spare.stream.then((stream) => stream.destroy(), () => {});
    }, this.#shrinkAfterMs);
    this.#shrinkTimer.unref?.();
  }

  /** Spares of an earlier link (before a reconnect) are closed: they cannot serve this one. */
  #dropOtherLinks(link: DialableLink | undefined): void {
    const stale = this.#spares.filter((spare) => spare.link !== link);
    if (stale.length === 0) return;
    this.#spares = this.#spares.filter((spare) => spare.link === link);
    for (const spare of stale) void spare.stream.then((stream) => stream.destroy(), () => {});
  }

  /**
   * The spare's replacement is opened once the server has begun answering on `stream` (its first
   * byte, its EOF or its close), not as the client arrives: opened at once, its channel open went
   * out ahead of the client's request, and sshd and dockerd handled it while the client waited
   * (measured: +0.1 ms per call at p50, and more slow calls at p99). Listened to after
   * the relay has piped the stream, so the listener never puts it in flowing mode itself.
   */
  #refillOnceAnswered(link: DialableLink, stream: Duplex): void {
    let done = false;
    const refill = () => {
      if (done) return;
      done = true;
      this.#refill(link);
    };
    setImmediate(() => {
      if (stream.destroyed || stream.readableFlowing !== true) return refill();
      stream.once("data", refill).once("end", refill).once("close", refill);
    });
  }

  #refill(link: DialableLink): void {
    if (this.#closed || this.#dial.decided(link) !== "stream-local") return;
    while (this.#spares.length < this.#wanted) this.#open(link);
  }

  #open(link: DialableLink): void {
    const spare: Spare = { link, stream: this.#dial(link) };
    this.#spares.push(spare);
    const drop = () => {
      this.#spares = this.#spares.filter((waiting) => waiting !== spare);
    };
    spare.stream.then(
      (opened) => {
        // While it waits it has no other listener: an error (the link lost) must not go unhandled.
        opened.on("error", () => {});
        opened.once("close", drop);
      },
      drop,
    );
  }
}
