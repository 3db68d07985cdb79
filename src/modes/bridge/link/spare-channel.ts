import type { Duplex } from "node:stream";
import type { DialableLink, EngineDialer } from "./engine-dial.ts";

/**
 * One channel to the remote engine opened ahead of the next client, so a new local connection
 * does not wait the round trip of a channel open (what `ssh -L` on a persistent OpenSSH
 * connection costs too, per connection): the client takes the spare, and the next one is opened
 * at once. Only with stream-local channels: a dial-stdio spare would hold one of OpenSSH's
 * `MaxSessions` sessions (and a process on the server) for nothing. A spare that went away
 * meanwhile (the link lost, dockerd restarted) is dropped, and the client gets a fresh channel.
 */
export class SpareChannel {
  readonly #dial: EngineDialer;
  #spare: { link: DialableLink; stream: Promise<Duplex> } | undefined;
  #closed = false;

  constructor(dial: EngineDialer) {
    this.#dial = dial;
  }

  /** A channel on `link`: the spare when it is ready and usable, else a new one. */
  async take(link: DialableLink): Promise<Duplex> {
    const spare = this.#spare;
    this.#spare = undefined;
    this.#refill(link);
    if (spare?.link === link) {
      const stream = await spare.stream.catch(() => undefined);
      if (stream && !stream.destroyed && stream.readable && stream.writable) return stream;
      stream?.destroy();
    } else {
      void spare?.stream.then((stream) => stream.destroy(), () => {});
    }
    const fresh = await this.#dial(link);
    // The link's first channel decided stream-local just now: the next client's can be opened.
    if (this.#spare === undefined) this.#refill(link);
    return fresh;
  }

  /** No more spares; the one waiting is closed. */
  close(): void {
    this.#closed = true;
    void this.#spare?.stream.then((stream) => stream.destroy(), () => {});
    this.#spare = undefined;
  }

  #refill(link: DialableLink): void {
    if (this.#closed || this.#dial.decided(link) !== "stream-local") return;
    const stream = this.#dial(link);
    const spare = { link, stream };
    this.#spare = spare;
    stream.then(
      (opened) => {
        // While it waits it has no other listener: an error (the link lost) must not go unhandled.
        opened.on("error", () => {});
        opened.once("close", () => {
          if (this.#spare === spare) this.#spare = undefined;
        });
      },
      () => {
        if (this.#spare === spare) this.#spare = undefined;
      },
    );
  }
}
