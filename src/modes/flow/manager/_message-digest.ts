import { activity, type Activity } from "../protocol/activity.ts";

/**
 * `message` activity, at most one entry per container per second: the first message of a
 * second is told at once, the rest of that second as one entry with their count and commands.
 * A feed for people stays readable under a busy client, and a message does not cost an
 * announcement to every connected client each time (it halved the round trip under load).
 */
export class MessageDigest {
  readonly #announce: (entry: Activity) => void;
  readonly #windowMs: number;
  readonly #open = new Map<string, { name: string; count: number; commands: Set<string>; timer: ReturnType<typeof setTimeout> }>();

  constructor(announce: (entry: Activity) => void, windowMs = 1000) {
    this.#announce = announce;
    this.#windowMs = windowMs;
  }

  /** A message was answered by a container. */
  answered(container: { id: string; name: string }, command: string): void {
    const open = this.#open.get(container.id);
    if (open) {
      open.count++;
      open.commands.add(command);
      return;
    }
    this.#announce(activity("message", container, `${command} answered by ${container.name}`, { command }));
    const timer = setTimeout(() => this.#flush(container.id), this.#windowMs);
    timer.unref?.();
    this.#open.set(container.id, { name: container.name, count: 0, commands: new Set(), timer });
  }

  /** Tells what is pending now (at stop). */
  flushAll(): void {
    for (const id of [...this.#open.keys()]) this.#flush(id);
  }

  #flush(id: string): void {
    const open = this.#open.get(id);
    if (!open) return;
    clearTimeout(open.timer);
    this.#open.delete(id);
    if (open.count === 0) return;
    const commands = [...open.commands].slice(0, 10);
    this.#announce(activity("message", { id, name: open.name }, `${open.count} more ${open.count === 1 ? "message" : "messages"} answered by ${open.name}`, { count: open.count, commands }));
  }
}
