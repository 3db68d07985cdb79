import type { ObservedContainer } from "../../docker/types.ts";

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
 * daemon and dockerd CPU that the burst's starts compete for). An answer serves until an event
 * about that container (by name or id) or a resync: the reconciles an event asks for always see
 * the container as it is after that event. Every change of a container's addresses or state comes
 * with such an event (start, die, restart, rename, network connect and disconnect...), and the
 * periodic resync (verify_interval) bounds how long an answer lives if one were ever missed. A
 * time limit of its own (one second, before) made a burst of starts spread over seconds inspect
 * the gateway again every second; a target that came just then waited for that inspect as well
 * as its own (up to 40 ms more in a burst of 50 on two cores).
 */
export class WarpLookup {
  readonly #inspect: Inspect;
  readonly #freshMs: number;
  readonly #entries = new Map<string, Entry>();

  /** `freshMs`: a time limit on an answer as well (tests); default none. */
  constructor(inspect: Inspect, freshMs = Number.POSITIVE_INFINITY) {
    this.#inspect = inspect;
    this.#freshMs = freshMs;
  }

  /** The warp container named `name`: the answer of an inspect since the last event about it, or a new one. */
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
