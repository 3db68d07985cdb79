import { sinceParameter } from "./events.ts";

/**
 * Where a reopened events stream starts, and which of its first events were seen already.
 * Docker's `since` is inclusive, so a stream reopened at the last event's time sends that event
 * (and any other of the same nanosecond) again: the lines seen at exactly that time are kept, to
 * drop their replay.
 */
export class ResumePoint {
  /** When the first stream opened: where a new stream starts until an event is seen. */
  #openedNano: bigint | undefined;
  #lastEventNano: bigint | undefined;
  /** The lines seen at exactly `#lastEventNano`, to recognise their replay. */
  #seenAtLast = new Set<string>();

  /** Forgets everything (a new start of the bus). */
  reset(): void {
    this.#openedNano = undefined;
    this.#lastEventNano = undefined;
    this.#seenAtLast.clear();
  }

  /** A stream opened at `nano` (the engine's time); only the first open counts. */
  opened(nano: bigint): void {
    this.#openedNano ??= nano;
  }

  /** Where a new stream starts replaying: the last event seen, else the first open; undefined before either. */
  since(): string | undefined {
    const from = this.#lastEventNano ?? this.#openedNano;
    return from === undefined ? undefined : sinceParameter(from);
  }

  /**
   * Moves the resume point to the latest event; false for the replay of a line already seen at
   * that very time. An event a little older than the latest (Docker stamps events before it
   * orders them) is delivered and leaves the point where it is.
   */
  advance(timeNano: bigint, line: string): boolean {
    if (this.#lastEventNano === undefined || timeNano > this.#lastEventNano) {
      this.#lastEventNano = timeNano;
      this.#seenAtLast = new Set([line]);
      return true;
    }
    if (timeNano < this.#lastEventNano) return true;
    if (this.#seenAtLast.has(line)) return false;
    this.#seenAtLast.add(line);
    return true;
  }
}
