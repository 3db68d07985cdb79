/**
 * Socket.IO v4's connection state recovery, with a bound. Its in-memory adapter keeps every
 * event sent (with an offset) for `maxDisconnectionDuration`, so that a client that comes back
 * in time gets what it missed and its rooms. Kept as it is, a flooding container would make it
 * hold minutes of events; here the oldest go once the total is over `maxBytes`. A client whose
 * last seen event went is not recovered (`socket.recovered` is false): it starts afresh and
 * knows it.
 */

/** How long a disconnected client's session and the events since are kept. */
export const recoveryWindowMs = 2 * 60 * 1000;
/** The most the kept events may weigh (their JSON), all clients together. */
export const recoveryMaxBytes = 16 * 1024 * 1024;

/** The adapter's store as Socket.IO's SessionAwareAdapter has it (socket.io-adapter 2.5). */
interface SessionAwareStore {
  packets: { data: unknown[] }[];
  broadcast(packet: { data?: unknown[] }, options: unknown): void;
  /** How the adapter encodes a packet once for all its recipients (socket.io-adapter 2.5). */
  _encode?(packet: unknown, options: unknown): unknown[];
}

/** The bytes of an encoded packet: its strings (or buffers, for binary parts). */
function encodedSize(parts: unknown[]): number {
  let bytes = 0;
  for (const part of parts) bytes += typeof part === "string" ? part.length : part instanceof Uint8Array ? part.byteLength : 0;
  return bytes;
}

/**
 * Bounds the event store of a namespace's adapter. The adapter is Socket.IO's own (a subclass
 * would need socket.io-adapter as a dependency of ours); its `broadcast` (and `_encode`) is wrapped once.
 */
export function boundRecoveryStore(adapter: unknown, maxBytes = recoveryMaxBytes): void {
  const store = adapter as SessionAwareStore;
  if (!Array.isArray(store.packets) || typeof store.broadcast !== "function") {
    throw new Error("Socket.IO's adapter keeps no packets: connection state recovery is not available");
  }
  const sizes: number[] = [];
  let total = 0;
  let first = 0;
  // An event's size is read from the adapter's own encoding of it, when it has one, rather than
  // encoding it a second time here: every event of a flood passes through this.
  let encodedBytes: number | undefined;
  if (typeof store._encode === "function") {
    const encode = store._encode.bind(store);
    store._encode = (packet, options) => {
      const parts = encode(packet, options);
      encodedBytes = encodedSize(parts);
      return parts;
    };
  }
  const broadcast = store.broadcast.bind(store);
  store.broadcast = (packet, options) => {
    const before = store.packets.length;
    encodedBytes = undefined;
    broadcast(packet, options);
    // The adapter's own timer cuts expired events from the front: keep our sizes in step.
    const cut = sizes.length - first - before;
    if (cut > 0) {
      for (let i = 0; i < cut; i++) total -= sizes[first + i] ?? 0;
      first += cut;
    }
    if (store.packets.length === before) return;
    const bytes = encodedBytes ?? JSON.stringify(packet.data ?? []).length;
    sizes.push(bytes);
    total += bytes;
    // Over the bound, down to 90% of it in one cut: one splice per tenth of the store, not per event.
    let drop = 0;
    if (total > maxBytes) while (total > maxBytes * 0.9 && first + drop < sizes.length - 1) total -= sizes[first + drop++] ?? 0;
    if (drop > 0) {
      store.packets.splice(0, drop);
      first += drop;
    }
    // Compact now and then rather than shifting on every event.
    if (first > 4096) {
      sizes.splice(0, first);
      first = 0;
    }
  };
}
