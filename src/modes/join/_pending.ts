/**
 * The network changes dockernet has asked Docker for, so that their events are not mistaken
 * for someone else's change to the proxy (which would cost a needless scan per change). An
 * entry is forgotten when its event arrives, when the change turned out not to happen, or after
 * `ttlMs` in case the event never comes.
 */
export class PendingChanges {
  readonly #until = new Map<string, number>();
  readonly #ttlMs: number;

  constructor(ttlMs = 10_000) {
    this.#ttlMs = ttlMs;
  }

  /** Records a change about to be made; returns its key, for `cancel`. */
  expect(op: "connect" | "disconnect", networkId: string): string {
    const key = `${op} ${networkId}`;
    this.#until.set(key, Date.now() + this.#ttlMs);
    return key;
  }

  /** The change did not happen (it failed, or was already true): no event will come. */
  cancel(key: string): void {
    this.#until.delete(key);
  }

  /** True, once, when an event of the proxy is the echo of a change dockernet made. */
  take(op: string, networkId: string): boolean {
    const now = Date.now();
    for (const [key, until] of this.#until) if (until < now) this.#until.delete(key);
    return this.#until.delete(`${op} ${networkId}`);
  }
}
