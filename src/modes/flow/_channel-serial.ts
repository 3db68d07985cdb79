/** Runs the tasks of one key one after the other (tasks of different keys run side by side). */
export class KeyedSerial {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` after the tasks queued before it for `key`; a failure is the caller's alone. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** The keys with tasks queued or running. */
  keys(): string[] {
    return [...this.#tails.keys()];
  }
}
