import type { ObservedContainer } from "../../docker/types.ts";

/** How long one inspect of a warp container serves the targets that name it (default). */
const defaultFreshMs = 1000;

type Inspect = (name: string) => Promise<ObservedContainer | undefined>;

interface Entry {
  at: number;
  result: Promise<ObservedContainer | undefined>;
  /** The container's id once the inspect answered (network events name only the id). */
  id?: string;
}

/**
 * The warp containers' inspects, shared by the targets that name the same one: a burst of 50
 * targets starting behind one gateway inspects it once, not 50 times (each inspect costs the
 * daemon and dockerd CPU that the burst's starts compete for). An answer serves for at most a
 * second, and not at all after an event about that container (by name or id) or a resync: the
 * reconciles an event asks for always see the container as it is after that event.
 */
export class WarpLookup {
  readonly #inspect: Inspect;
  readonly #freshMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(inspect: Inspect, freshMs = defaultFreshMs) {
    this.#inspect = inspect;
    this.#freshMs = freshMs;
  }

  /** The warp container named `name`, inspected now or within the last second. */
  get(name: string | undefined): Promise<ObservedContainer | undefined> {
    if (name === undefined) return Promise.resolve(undefined);
    const now = performance.now();
    const cached = this.#entries.get(name);
    if (cached !== undefined && now - cached.at < this.#freshMs) return cached.result;
    const entry: Entry = { at: now, result: this.#inspect(name) };
    this.#entries.set(name, entry);
    entry.result.then(
      (warp) => void (entry.id = warp?.id),
      // A failed inspect is not kept: the next target asks again.
      () => void (this.#entries.get(name) === entry && this.#entries.delete(name)),
    );
    return entry.result;
  }

  /** Something happened to the container with this id or one of these names: inspect it afresh. */
  forget(id: string | undefined, names: readonly string[]): void {
    for (const name of names) this.#entries.delete(name);
    if (id === undefined) return;
    // An inspect still in flight may be of this container, answered from before the event.
    for (const [name, entry] of this.#entries) if (entry.id === id || entry.id === undefined) this.#entries.delete(name);
  }

  /** A resync (or a reopened events stream): every container is inspected afresh. */
  clear(): void {
    this.#entries.clear();
  }
}
