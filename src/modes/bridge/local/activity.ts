/**
 * What counts as use of the bridge, for idle shutdown: Docker API traffic, bytes on forwarded
 * ports, and open connections — an open connection counts for at most `connectionTimeoutMs` (a
 * forgotten `docker logs -f` does not keep a server alive forever).
 */
export class ActivityClock {
  readonly #connectionTimeoutMs: number;
  readonly #now: () => number;
  #last: number;
  readonly #open = new Map<number, number>();
  #next = 0;
  /** Something counts as use for as long as it lasts (a container running on the server). */
  #held = false;

  constructor(options: { connectionTimeoutMs: number; now?: () => number }) {
    this.#connectionTimeoutMs = options.connectionTimeoutMs;
    this.#now = options.now ?? Date.now;
    this.#last = this.#now();
  }

  /** Bytes went through. */
  touch(): void {
    this.#last = this.#now();
  }

  /** Held: in use until released, and idle time counts from the release. */
  hold(held: boolean): void {
    if (this.#held && !held) this.touch();
    this.#held = held;
  }

  /** A connection opened; call the result when it closes. */
  opened(): () => void {
    const id = this.#next++;
    this.#open.set(id, this.#now());
    this.touch();
    return () => {
      this.#open.delete(id);
      this.touch();
    };
  }

  /** Connections open now. */
  get connections(): number {
    return this.#open.size;
  }

  /** When the bridge was last in use: open connections count as use until they are `connectionTimeoutMs` old. */
  lastActive(): number {
    const now = this.#now();
    if (this.#held) return now;
    let last = this.#last;
    for (const since of this.#open.values()) last = Math.max(last, Math.min(now, since + this.#connectionTimeoutMs));
    return last;
  }

  /** Milliseconds without activity. */
  idleMs(): number {
    return Math.max(0, this.#now() - this.lastActive());
  }
}
