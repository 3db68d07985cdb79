import { Backoff, sleep } from "../../core/backoff.ts";
import { DockernetError, errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { SshLink } from "../../ssh/connection.ts";

/** What `connect` tells the supervisor about its progress. */
export interface ConnectSteps {
  /** Runs the step that creates the server: Docker connections waiting meanwhile wait up to `createTimeoutMs`. */
  creating<T>(step: () => Promise<T>): Promise<T>;
}

export interface LinkOptions {
  /** Makes the connection (creating the server first, with a provider that does: wrapped in `steps.creating`). */
  connect(steps: ConnectSteps): Promise<SshLink>;
  log: Logger;
  /** How long `acquire` waits for the link before giving up. */
  connectTimeoutMs: number;
  /** How long `acquire` waits while a server is being created (default 15 min). */
  createTimeoutMs?: number;
  /** The link is up (again): re-establish what hangs on it. */
  onUp?(link: SshLink): void;
  /** Reconnect delays (default 1 s doubling to 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** The delays start over only after a link stayed up this long (default 30 s). */
  stableMs?: number;
}

/** What `status` shows of the link. */
export interface LinkStatus {
  connected: boolean;
  since: string | null;
  last_error: string | null;
  reconnects: number;
}

/** Someone waiting for the link: `acquire` (with a deadline, checked again when a create starts or ends) or `whenUp`. */
interface Waiter {
  done(link: SshLink | DockernetError): void;
  recheck?(): void;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * The one SSH connection of a bridge: connected at start, reconnected with backoff whenever it
 * is lost, and "parked" (not reconnected) after its server was destroyed for idleness, until the
 * next Docker connection asks for it again. Waiters get the link, or an error after
 * `connectTimeoutMs` (`createTimeoutMs` while a server is being created).
 */
export class LinkSupervisor {
  readonly #options: LinkOptions;
  readonly #backoff: Backoff;
  readonly #stableMs: number;
  readonly #createTimeoutMs: number;
  readonly #stop = new AbortController();
  #link: SshLink | undefined;
  #since: Date | undefined;
  #lastError: string | undefined;
  #reconnects = 0;
  #loop: Promise<void> | undefined;
  #waiters: Waiter[] = [];
  #parked = false;
  /** Counts park() calls: a connect that saw it change was for a server being destroyed. */
  #parks = 0;
  /** Creating steps running now, and when the last one ended. */
  #creating = 0;
  #createdAt: number | undefined;
  #announced = false;
  readonly #steps: ConnectSteps = { creating: (step) => this.#creatingStep(step) };

  constructor(options: LinkOptions) {
    this.#options = options;
    this.#backoff = new Backoff({ initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 30_000, jitter: 0.2 });
    this.#stableMs = options.stableMs ?? 30_000;
    this.#createTimeoutMs = options.createTimeoutMs ?? 15 * 60_000;
  }

  get link(): SshLink | undefined {
    return this.#link;
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
  async acquire(signal?: AbortSignal): Promise<SshLink> {
    if (this.#link) return this.#link;
    if (this.#stop.signal.aborted) throw this.#stoppedError();
    if (this.#parked) {
      this.#parked = false;
      this.#backoff.reset();
      this.#ensureLoop();
    }
    const started = Date.now();
    return await new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        done: (link) => {
          clearTimeout(timer);
          if (link instanceof DockernetError) reject(link);
          else resolve(link);
        },
        recheck: () => {
          clearTimeout(timer);
          const left = this.#deadline(started) - Date.now();
          if (left > 0) {
            timer = setTimeout(() => waiter.recheck?.(), left);
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
  async whenUp(signal?: AbortSignal): Promise<SshLink> {
    if (this.#link) return this.#link;
    if (this.#stop.signal.aborted) throw this.#stoppedError();
    return await new Promise((resolve, reject) => this.#wait({ done: (link) => (link instanceof DockernetError ? reject(link) : resolve(link)) }, signal));
  }

  /** Adds a waiter; `signal` (its client left) takes it away again, so waiters never pile up. */
  #wait(waiter: Waiter, signal: AbortSignal | undefined): void {
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

  /** After an idle destroy: close the link and do not reconnect until someone needs it. */
  park(): void {
    this.#parked = true;
    this.#parks++;
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
    const waited = seconds(Date.now() - started);
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
      this.#createdAt = Date.now();
      this.#recheckWaiters();
    }
  }

  #recheckWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter.recheck?.();
  }

  #up(link: SshLink): void {
    const since = new Date();
    this.#link = link;
    this.#since = since;
    for (const waiter of this.#waiters.splice(0)) waiter.done(link);
    this.#options.onUp?.(link);
    void link.closed.then(({ reason }) => {
      if (this.#link !== link) return;
      this.#link = undefined;
      this.#since = undefined;
      this.#lastError = reason;
      if (this.#stop.signal.aborted || this.#parked) return;
      // Only a link that stayed up a while starts the delays over: a server that takes the
      // connection and drops it again must not be reconnected to (and with a provider, called) in a loop.
      const stable = Date.now() - since.getTime() >= this.#stableMs;
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
    if (delayMs > 0 && !(await sleep(delayMs, this.#stop.signal))) return;
    while (!this.#stop.signal.aborted && !this.#parked && this.#link === undefined) {
      const parks = this.#parks;
      try {
        const link = await this.#options.connect(this.#steps);
        if (this.#stop.signal.aborted) return link.close();
        if (this.#parks !== parks) {
          // Parked meanwhile: this link goes to the server being destroyed. Connect again only
          // when someone asked for the link since (the loop's condition).
          link.close();
          continue;
        }
        this.#reconnects++;
        this.#options.log.info("SSH link up again", { reconnects: this.#reconnects });
        this.#up(link);
        return;
      } catch (error) {
        if (this.#parks !== parks) continue;
        this.#lastError = errorMessage(error);
        const delay = this.#backoff.next();
        this.#options.log.warn("SSH connect failed, retrying", { error: this.#lastError, retry_in_ms: delay });
        if (!(await sleep(delay, this.#stop.signal))) return;
      }
    }
  }
}
