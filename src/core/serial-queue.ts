/**
 * Work that must not overlap, run one task at a time in the order asked. A failing task fails
 * only its own caller; the tasks queued after it still run.
 *
 * ```ts
 * const queue = new SerialQueue();
 * await queue.run(() => ensureServer());   // a destroy asked for meanwhile waits for this one
 * const keyed = new KeyedSerialQueue();
 * await keyed.run(containerId, () => deliver(frame)); // per container, containers side by side
 * ```
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;

  /** Runs `task` once every task queued before it has settled; resolves or rejects with it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#queued++;
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => void this.#queued--,
      () => void this.#queued--,
    );
    return result;
  }

  /** True while a task is queued or running. */
  get busy(): boolean {
    return this.#queued > 0;
  }
}

/** One {@link SerialQueue} per key, made when first used and dropped once it runs dry. */
export class KeyedSerialQueue<K = string> {
  readonly #queues = new Map<K, SerialQueue>();

  /** Runs `task` after the tasks queued before it for `key`; other keys run side by side. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    let queue = this.#queues.get(key);
    if (queue === undefined) this.#queues.set(key, (queue = new SerialQueue()));
    const owner = queue;
    const result = owner.run(task);
    const forget = (): void => {
      if (!owner.busy && this.#queues.get(key) === owner) this.#queues.delete(key);
    };
    result.then(forget, forget);
    return result;
  }

  /** The keys with tasks queued or running. */
  keys(): K[] {
    return [...this.#queues.keys()];
  }
}
