/**
 * What one Socket.IO client has queued in the manager, and what it was not sent because of it.
 * A client that reads slowly (or not at all) makes Engine.IO keep every packet sent to it: past
 * its budget its `container_message` and `log` events are dropped, counted per container, and it
 * is told so by a `dropped` event, at most once a second. Replies are never counted nor dropped.
 */

/** What may wait unsent to one client before its container events are dropped (1 MiB). */
export const clientBudgetBytes = 1024 * 1024;
/** At most one `dropped` event per client in this time. */
const noticeEveryMs = 1000;

/** The parts of an Engine.IO socket (`socket.conn`) the budget reads. */
export interface EngineConnection {
  transport: EngineTransport;
  on(event: "packetCreate", listener: (packet: { data?: unknown }) => void): unknown;
  on(event: "flush", listener: (buffer: { data?: unknown }[]) => void): unknown;
  on(event: "upgrade", listener: (transport: EngineTransport) => void): unknown;
}

interface EngineTransport {
  on(event: "drain", listener: () => void): unknown;
}

/** The counts one `dropped` event carries. */
export interface DroppedNotice {
  /** Per container: how many of each event were not sent. */
  containers: { container_id: string; name: string; container_message: number; log: number }[];
  /** When the first of them was dropped, and now (ISO). */
  since: string;
  time: string;
  budget_bytes: number;
}

function sizeOf(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (data instanceof Uint8Array) return data.byteLength;
  return 0;
}

function sum(packets: { data?: unknown }[]): number {
  let total = 0;
  for (const packet of packets) total += sizeOf(packet.data);
  return total;
}

/**
 * Bytes queued to one client: counted when Engine.IO makes a packet, moved to "in flight" when
 * it hands a batch to the transport, and forgotten when the transport says it wrote the batch
 * out (`drain`: for WebSocket, once the kernel took it). Engine.IO sends one batch at a time.
 */
export class ClientBudget {
  readonly #limit: number;
  readonly #tell: (notice: DroppedNotice) => void;
  #waiting = 0;
  #inFlight: number[] = [];
  #dropped = new Map<string, { name: string; container_message: number; log: number }>();
  #droppedSince = 0;
  #lastNotice = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: EngineConnection, tell: (notice: DroppedNotice) => void, limit = clientBudgetBytes) {
    this.#limit = limit;
    this.#tell = tell;
    conn.on("packetCreate", (packet) => void (this.#waiting += sizeOf(packet.data)));
    conn.on("flush", (buffer) => {
      const bytes = sum(buffer);
      this.#waiting = Math.max(0, this.#waiting - bytes);
      this.#inFlight.push(bytes);
    });
    const watch = (transport: EngineTransport) => transport.on("drain", () => void this.#inFlight.shift());
    watch(conn.transport);
    conn.on("upgrade", (transport) => {
      // The old transport's batch in flight will never drain on the new one.
      this.#inFlight = [];
      watch(transport);
    });
  }

  /** The bytes waiting or in flight to this client. */
  get queued(): number {
    let total = this.#waiting;
    for (const bytes of this.#inFlight) total += bytes;
    return total;
  }

  /** Whether the client is past its budget: its container events are dropped. */
  get over(): boolean {
    return this.queued > this.#limit;
  }

  /** Counts an event not sent; a `dropped` event follows within a second. */
  drop(container: { id: string; name: string }, event: "container_message" | "log"): void {
    let counts = this.#dropped.get(container.id);
    if (!counts) this.#dropped.set(container.id, (counts = { name: container.name, container_message: 0, log: 0 }));
    counts[event]++;
    if (this.#droppedSince === 0) this.#droppedSince = Date.now();
    if (this.#timer !== undefined) return;
    const delay = Math.max(0, this.#lastNotice + noticeEveryMs - Date.now());
    this.#timer = setTimeout(() => this.#notify(), delay);
    this.#timer.unref?.();
  }

  /** Stops the pending notice (the client left). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #notify(): void {
    this.#timer = undefined;
    if (this.#dropped.size === 0) return;
    const containers = [...this.#dropped].map(([container_id, counts]) => ({ container_id, ...counts }));
    const since = new Date(this.#droppedSince).toISOString();
    this.#dropped = new Map();
    this.#droppedSince = 0;
    this.#lastNotice = Date.now();
    this.#tell({ containers, since, time: new Date(this.#lastNotice).toISOString(), budget_bytes: this.#limit });
  }
}
