/** A warning as `bridge status` (and its JSON) lists it. */
export interface BridgeWarning {
  /** The container it concerns, by name (or what the client named of it). */
  container: string;
  /** The whole of it, values included: status shows no log fields. */
  message: string;
  /** When it was first seen (ISO 8601). */
  since: string;
}

/**
 * The warnings a user must see where they look (`bridge status`), beside the log lines that stay.
 * Each has a key: one about a state (a port moved, a UDP port) is dropped when that state ends;
 * one about a moment (a bind mount in one `docker run`) stays until `limit` newer ones push it out.
 */
export class BridgeWarnings {
  readonly #items = new Map<string, BridgeWarning>();
  readonly #limit: number;
  readonly #now: () => Date;

  constructor(options: { limit?: number; now?: () => Date } = {}) {
    this.#limit = options.limit ?? 50;
    this.#now = options.now ?? (() => new Date());
  }

  /** Records a warning; the same key again keeps the first `since` (the state has lasted since then). */
  set(key: string, warning: Omit<BridgeWarning, "since">): void {
    const since = this.#items.get(key)?.since ?? this.#now().toISOString();
    this.#items.delete(key);
    this.#items.set(key, { ...warning, since });
    // A Map keeps insertion order: the first key is the oldest.
    for (const oldest of this.#items.keys()) {
      if (this.#items.size <= this.#limit) break;
      this.#items.delete(oldest);
    }
  }

  /** Drops the warning of a state that has ended. */
  clear(key: string): void {
    this.#items.delete(key);
  }

  /** Oldest first. */
  list(): BridgeWarning[] {
    return [...this.#items.values()].map((warning) => ({ ...warning }));
  }
}
