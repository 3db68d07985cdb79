import { Backoff } from "../../../core/backoff.ts";
import { DockernetError, errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import type { SshLink } from "../../../ssh/connection.ts";
import { sleepOn, systemClock, type Clock } from "../clock.ts";
import { SERVER_DESTROYED } from "../server/lifecycle.ts";

/** What the supervisor uses of a link: an SshLink, or in tests anything with these three. */
export type SupervisedLink = Pick<SshLink, "where" | "closed" | "close">;

/** What `connect` tells the supervisor about its progress. */
export interface ConnectSteps {
  /** Runs the step that creates the server: Docker connections waiting meanwhile wait up to `createTimeoutMs`. */
  creating<T>(step: () => Promise<T>): Promise<T>;
}

export interface LinkOptions<L extends SupervisedLink = SshLink> {
  /**
   * Makes the connection (creating the server first, with a provider that does: wrapped in
   * `steps.creating`). Rejects with BRIDGE_SERVER_DESTROYED when its server is being destroyed
   * (ServerLifecycle.connect): a parked link then stays parked, a woken one connects again.
   */
  connect(steps: ConnectSteps): Promise<L>;
  log: Logger;
  /** How long `acquire` waits for the link before giving up. */
  connectTimeoutMs: number;
  /** How long `acquire` waits while a server is being created (default 15 min). */
  createTimeoutMs?: number;
  /** Reconnect delays (default 1 s doubling to 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** The delays start over only after a link stayed up this long (default 30 s). */
  stableMs?: number;
  /** Default: the system's. */
  clock?: Clock;
}

/** What `status` shows of the link. */
export interface LinkStatus {
  connected: boolean;
  since: string | null;
  last_error: string | null;
  reconnects: number;
}

/** Someone waiting for the link: `acquire` (with a deadline, checked again when a create starts or ends) or `whenUp`. */
interface Waiter<L> {
  done(link: L | DockernetError): void;
  recheck?(): void;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * The one SSH connection of a bridge: connected at start, reconnected with backoff whenever it
 * is lost, and "parked" (not reconnected) after its server was destroyed for idleness, until the
 * next Docker connection asks for it again. Waiters get the link, or an error after
 * `connectTimeoutMs` (`createTimeoutMs` while a server is being created).
 */
export class LinkSupervisor<L extends SupervisedLink = SshLink> {
  readonly #options: LinkOptions<L>;
  readonly #backoff: Backoff;
  readonly #stableMs: number;
  readonly #createTimeoutMs: number;
  readonly #clock: Clock;
  readonly #stop = new AbortController();
  #link: L | undefined;
  #since: Date | undefined;
  #lastError: string | undefined;
  #reconnects = 0;
  #loop: Promise<void> | undefined;
  #waiters: Waiter<L>[] = [];
  #parked = false;
  /** Creating steps running now, and when the last one ended. */
  #creating = 0;
  #createdAt: number | undefined;
  #announced = false;
  readonly #upListeners = new Set<(link: L) => void>();
  readonly #steps: ConnectSteps = { creating: (step) => this.#creatingStep(step) };

  constructor(options: LinkOptions<L>) {
    this.#options = options;
    this.#backoff = new Backoff({ initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 30_000, jitter: 0.2 });
    this.#stableMs = options.stableMs ?? 30_000;
    this.#createTimeoutMs = options.createTimeoutMs ?? 15 * 60_000;
    this.#clock = options.clock ?? systemClock;
  }

  get link(): L | undefined {
    return this.#link;
  }

  /** Why the bridge is unhealthy (/healthz): the link is down and not parked on purpose. */
  health(): string | undefined {
    if (this.#link !== undefined || this.#parked) return undefined;
    return `the SSH link is down${this.#lastError ? ` (${this.#lastError})` : ""}`;
  }

  status(): LinkStatus {
    return { connected: this.#link !== undefined, since: this.#since?.toISOString() ?? null, last_error: this.#lastError ?? null, reconnects: this.#reconnects };
  }

  /** Connects once (the first connection's errors, such as a refused host key, are the caller's), then keeps the link up. */
  async start(): Promise<void> {
    this.#up(await this.#options.connect(this.#steps));
  }

  /**
   * The link, now or once it is up; rejects after connect_timeout, or while a server is being
   * created, after the create timeout. A parked link is connected again.
   */
  async acquire(signal?: AbortSignal): Promise<L> {
    if (this.#link) return this.#link;
    if (this.#stop.signal.aborted) throw this.#stoppedError();
    if (this.#parked) {
      this.#parked = false;
      this.#backoff.reset();
      this.#ensureLoop();
    }
    const started = this.#clock.now();
    return await new Promise((resolve, reject) => {
      let cancelTimer = () => {};
      const waiter: Waiter<L> = {
        done: (link) => {
          cancelTimer();
          if (link instanceof DockernetError) reject(link);
          else resolve(link);
        },
        recheck: () => {
          cancelTimer();
          const left = this.#deadline(started) - this.#clock.now();
          if (left > 0) {
            cancelTimer = this.#clock.after(left, () => waiter.recheck?.());
            return;
          }
          this.#waiters = this.#waiters.filter((other) => other !== waiter);
          reject(this.#timeoutError(started));
        },
      };
      this.#wait(waiter, signal);
      waiter.recheck?.();
      if (this.#creating > 0) this.#announce();
    });
  }

  /**
   * The link once it is up, without waking a parked one (for the bridge's own Docker connections:
   * they must not re-create a destroyed server). Waits as long as it takes; rejects on stop().
   */
  async whenUp(signal?: AbortSignal): Promise<L> {
    if (this.#link) return this.#link;
    if (this.#stop.signal.aborted) throw this.#stoppedError();
    return await new Promise((resolve, reject) => this.#wait({ done: (link) => (link instanceof DockernetError ? reject(link) : resolve(link)) }, signal));
  }

  /** Adds a waiter; `signal` (its client left) takes it away again, so waiters never pile up. */
  #wait(waiter: Waiter<L>, signal: AbortSignal | undefined): void {
    this.#waiters.push(waiter);
    signal?.addEventListener(
      "abort",
      () => {
        if (!this.#waiters.includes(waiter)) return;
        this.#waiters = this.#waiters.filter((other) => other !== waiter);
        waiter.done(new DockernetError("the client left while it waited for the SSH link", { code: "BRIDGE_CLIENT_LEFT" }));
      },
      { once: true },
    );
  }

  /** Calls `listener` each time the link is up again, to re-establish what hangs on it; returns the unsubscribe function. */
  onUp(listener: (link: L) => void): () => void {
    this.#upListeners.add(listener);
    return () => this.#upListeners.delete(listener);
  }

  /** After an idle destroy: close the link and do not reconnect until someone needs it. */
  park(): void {
    this.#parked = true;
    const link = this.#link;
    this.#link = undefined;
    this.#since = undefined;
    link?.close();
  }

  get parked(): boolean {
    return this.#parked;
  }

  stop(): void {
    this.#stop.abort();
    this.#link?.close();
    this.#link = undefined;
    for (const waiter of this.#waiters.splice(0)) waiter.done(this.#stoppedError());
  }

  #stoppedError(): DockernetError {
    return new DockernetError("the bridge is stopping", { code: "BRIDGE_STOPPING" });
  }

  /**
   * When a waiter that came at `started` gives up: connect_timeout after it came, or after the
   * last create ended; while a server is being created, the create timeout.
   */
  #deadline(started: number): number {
    const connect = this.#options.connectTimeoutMs;
    const create = started + this.#createTimeoutMs;
    if (this.#creating > 0) return create;
    if (this.#createdAt !== undefined && this.#createdAt > started) return Math.min(create, Math.max(started + connect, this.#createdAt + connect));
    return started + connect;
  }

  #timeoutError(started: number): DockernetError {
    const waited = seconds(this.#clock.now() - started);
    const why = this.#creating > 0 ? `the server is still being created after ${waited}` : `the SSH link is not up after ${seconds(this.#options.connectTimeoutMs)}`;
    return new DockernetError(`${why}${this.#lastError ? ` (${this.#lastError})` : ""}`, { code: "BRIDGE_LINK_DOWN" });
  }

  #announce(): void {
    const waiting = this.#waiters.filter((waiter) => waiter.recheck).length;
    if (this.#announced || waiting === 0) return;
    this.#announced = true;
    this.#options.log.info("a Docker connection waits for the server to be created", { waiting, up_to_s: Math.round(this.#createTimeoutMs / 1000) });
  }

  async #creatingStep<T>(step: () => Promise<T>): Promise<T> {
    this.#creating++;
    this.#announced = false;
    this.#recheckWaiters();
    this.#announce();
    try {
      return await step();
    } finally {
      this.#creating--;
      this.#createdAt = this.#clock.now();
      this.#recheckWaiters();
    }
  }

  #recheckWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter.recheck?.();
  }

  #up(link: L): void {
    const since = new Date(this.#clock.now());
    this.#link = link;
    this.#since = since;
    for (const waiter of this.#waiters.splice(0)) waiter.done(link);
    for (const listener of this.#upListeners) listener(link);
    void link.closed.then(({ reason }) => {
      if (this.#link !== link) return;
      this.#link = undefined;
      this.#since = undefined;
      this.#lastError = reason;
      if (this.#stop.signal.aborted || this.#parked) return;
      // Only a link that stayed up a while starts the delays over: a server that takes the
      // connection and drops it again must not be reconnected to (and with a provider, called) in a loop.
      const stable = this.#clock.now() - since.getTime() >= this.#stableMs;
      if (stable) this.#backoff.reset();
      const delay = stable ? 0 : this.#backoff.next();
      this.#options.log.warn("SSH link lost, reconnecting", { reason, ...(delay > 0 ? { retry_in_ms: delay } : {}) });
      this.#ensureLoop(delay);
    });
  }

  #ensureLoop(delayMs = 0): void {
    this.#loop ??= this.#reconnect(delayMs).finally(() => (this.#loop = undefined));
  }

  async #reconnect(delayMs: number): Promise<void> {
    if (delayMs > 0 && !(await sleepOn(this.#clock, delayMs, this.#stop.signal))) return;
    while (!this.#stop.signal.aborted && !this.#parked && this.#link === undefined) {
      try {
        const link = await this.#options.connect(this.#steps);
        if (this.#stop.signal.aborted) return link.close();
        this.#reconnects++;
        this.#options.log.info("SSH link up again", { reconnects: this.#reconnects });
        this.#up(link);
        return;
      } catch (error) {
        // Its server is being destroyed (idle): connect again only when someone asked for the
        // link since (the loop's condition), with no delay and nothing to report.
        if ((error as { code?: string }).code === SERVER_DESTROYED) continue;
        this.#lastError = errorMessage(error);
        const delay = this.#backoff.next();
        this.#options.log.warn("SSH connect failed, retrying", { error: this.#lastError, retry_in_ms: delay });
        if (!(await sleepOn(this.#clock, delay, this.#stop.signal))) return;
      }
    }
  }
}
