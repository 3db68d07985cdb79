/**
 * A clock for the bridge's timers that a test moves by hand (src/modes/bridge/clock.ts): time
 * passes only in `advance`, which fires what falls due in order and lets the promises they settle
 * run before the next, so a test of "reconnects 20, 40, 80 ms apart" or "destroyed after the idle
 * timeout" asserts exact times, however busy the machine is.
 *
 * ```ts
 * const clock = new ManualClock();
 * const watch = startIdleWatch({ ..., clock });
 * await clock.advance(60_000);            // a minute passes, at once
 * ```
 */
import type { Clock } from "../../src/modes/bridge/clock.ts";

interface Timer {
  at: number;
  order: number;
  fn(): void;
}

/** Lets every promise settled so far run its callbacks (a macrotask turn). */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  readonly #timers = new Set<Timer>();

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, ms), order: this.#order++, fn };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  /** Moves time `ms` forward: each timer due meanwhile fires at its own time, in order, its effects settled before the next. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const due = [...this.#timers].filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (due === undefined) break;
      this.#timers.delete(due);
      this.#now = due.at;
      due.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /** Advances in `stepMs` steps until `condition` holds; throws after `limitMs` of clock time. */
  async until(condition: () => boolean, options: { stepMs?: number; limitMs?: number } = {}): Promise<void> {
    const step = options.stepMs ?? 1;
    for (let passed = 0; !condition(); passed += step) {
      if (passed > (options.limitMs ?? 60_000)) throw new Error(`not so after ${passed} ms of clock time`);
      await this.advance(step);
    }
  }
}
