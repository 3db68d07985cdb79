/**
 * A token bucket over bytes: what one container may make the manager read per second. Past it,
 * the reader pauses its source for as long as the debt takes to pay off, so the kernel (and the
 * writer's own backpressure) holds the rest instead of the manager's memory and event loop.
 */
export class RateGate {
  readonly #bytesPerSecond: number;
  readonly #burst: number;
  #tokens: number;
  #at = performance.now();

  constructor(bytesPerSecond: number, burst = bytesPerSecond) {
    this.#bytesPerSecond = bytesPerSecond;
    this.#burst = burst;
    this.#tokens = burst;
  }

  /** Counts `bytes` read; resolves nothing, may go into debt. */
  take(bytes: number): void {
    this.#refill();
    this.#tokens -= bytes;
  }

  /** How long the reader should wait before reading more (0: go on). */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#bytesPerSecond);
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#bytesPerSecond) / 1000);
    this.#at = now;
  }
}
