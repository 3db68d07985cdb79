import type { Socket } from "node:net";
import type { Duplex } from "node:stream";

export interface RelayHooks {
  /** Bytes that went through, either way. */
  onBytes?(count: number): void;
  /** The client's bytes, in order (to read them, never to change them). */
  onClientData?(chunk: Buffer): void;
  /** Both sides are closed (once). */
  onClose?(): void;
}

/**
 * Relays bytes between `client` and `server` untouched, both ways, with backpressure, and keeps
 * half-close end to end: when one side ends its writing, the other side's writing is ended
 * while the reverse direction keeps flowing (`docker run -i` ends stdin and still reads the
 * output). An error on either side destroys both.
 */
export function relayPair(client: Duplex, server: Duplex, hooks: RelayHooks = {}): void {
  let open = 2;
  let finished = false;
  const closed = () => {
    if (--open > 0 || finished) return;
    finished = true;
    hooks.onClose?.();
  };
  const fail = () => {
    client.destroy();
    server.destroy();
  };
  client.on("data", (chunk: Buffer) => {
    // Read-only observers: whatever they do wrong must never stop the bytes.
    try {
      hooks.onClientData?.(chunk);
    } catch {
      hooks.onClientData = undefined;
    }
    hooks.onBytes?.(chunk.length);
  });
  server.on("data", (chunk: Buffer) => hooks.onBytes?.(chunk.length));
  client.pipe(server);
  server.pipe(client);
  client.once("error", fail);
  server.once("error", fail);
  client.once("close", () => {
    // The client is gone for good: nothing more will be read from the server for it. Gone
    // without its EOF (destroyed: a forward closed with its container), the channel goes too.
    if (!server.destroyed && (server.writableEnded || !client.readableEnded)) server.destroy();
    closed();
  });
  server.once("close", () => {
    if (!client.destroyed && client.writableEnded) client.destroy();
    closed();
  });
}

/**
 * Relays `client` through the channel `open` gives: the client's bytes wait in it (paused) while
 * the channel opens; a client that leaves first aborts `open`'s signal (so nothing keeps waiting
 * for it), and a channel that arrives for a client already gone is closed. `onClose` runs once,
 * whatever happens; `onFailed` when no channel came.
 */
export function relayWhenOpen(client: Socket, open: (signal: AbortSignal) => Promise<Duplex>, hooks: RelayHooks & { onFailed(error: unknown): void }): void {
  const leaving = new AbortController();
  const left = () => leaving.abort();
  client.once("close", left);
  client.pause();
  open(leaving.signal).then(
    (channel) => {
      client.off("close", left);
      if (client.destroyed) {
        channel.destroy();
        hooks.onClose?.();
        return;
      }
      relayPair(client, channel, hooks);
      client.resume();
    },
    (error: unknown) => {
      client.off("close", left);
      if (!leaving.signal.aborted) hooks.onFailed(error);
      hooks.onClose?.();
      client.destroy();
    },
  );
}
