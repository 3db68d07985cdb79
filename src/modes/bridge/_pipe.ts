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
