import { Backoff, sleep } from "../../core/backoff.ts";
import { DockernetError, errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { SshLink } from "../../ssh/connection.ts";

export interface LinkOptions {
  /** Makes the connection (creating the server first, with a provider that does). */
  connect(): Promise<SshLink>;
  log: Logger;
  /** How long `acquire` waits for the link before giving up. */
  connectTimeoutMs: number;
  /** The link is up (again): re-establish what hangs on it. */
  onUp?(link: SshLink): void;
  /** Reconnect delays (default 1 s doubling to 30 s). */
  backoff?: { initialMs: number; maxMs: number };
}

/** What `status` shows of the link. */
export interface LinkStatus {
  connected: boolean;
  since: string | null;
  last_error: string | null;
  reconnects: number;
}

/**
 * The one SSH connection of a bridge: connected at start, reconnected with backoff whenever it
 * is lost, and "parked" (not reconnected) after its server was destroyed for idleness, until the
 * next Docker connection asks for it again. Waiters get the link, or an error after
 * `connectTimeoutMs`.
 */
export class LinkSupervisor {
  readonly #options: LinkOptions;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  #link: SshLink | undefined;
  #since: Date | undefined;
  #lastError: string | undefined;
  #reconnects = 0;
  #loop: Promise<void> | undefined;
  /** Called with the link once it is up, or with an error when the bridge stops. */
  #waiters: ((link: SshLink | DockernetError) => void)[] = [];
  #parked = false;

  constructor(options: LinkOptions) {
    this.#options = options;
    this.#backoff = new Backoff({ initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 30_000, jitter: 0.2 });
  }

  get link(): SshLink | undefined {
    return this.#link;
  }

  status(): LinkStatus {
    return { connected: this.#link !== undefined, since: this.#since?.toISOString() ?? null, last_error: this.#lastError ?? null, reconnects: this.#reconnects };
  }

  /** Connects once (the first connection's errors, such as a refused host key, are the caller's), then keeps the link up. */
  async start(): Promise<void> {
    this.#up(await this.#options.connect());
  }

  /** The link, now or once it is up; rejects after connect_timeout. A parked link is connected again. */
  async acquire(): Promise<SshLink> {
    if (this.#link) return this.#link;
    if (this.#parked) {
      this.#parked = false;
      this.#ensureLoop();
    }
    const timeoutMs = this.#options.connectTimeoutMs;
    if (this.#stop.signal.aborted) throw this.#stoppedError();
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== done);
        reject(new DockernetError(`the SSH link is not up after ${Math.round(timeoutMs / 1000)} s${this.#lastError ? ` (${this.#lastError})` : ""}`, { code: "BRIDGE_LINK_DOWN" }));
      }, timeoutMs);
      const done = (link: SshLink | DockernetError) => {
        clearTimeout(timer);
        if (link instanceof DockernetError) reject(link);
        else resolve(link);
      };
      this.#waiters.push(done);
    });
  }

  /**
   * The link once it is up, without waking a parked one (for the bridge's own Docker connections:
   * they must not re-create a destroyed server). Waits as long as it takes; rejects on stop().
   */
  async whenUp(): Promise<SshLink> {
    if (this.#link) return this.#link;
    if (this.#stop.signal.aborted) throw this.#stoppedError();
    return await new Promise((resolve, reject) => this.#waiters.push((link) => (link instanceof DockernetError ? reject(link) : resolve(link))));
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
    for (const waiter of this.#waiters.splice(0)) waiter(this.#stoppedError());
  }

  #stoppedError(): DockernetError {
    return new DockernetError("the bridge is stopping", { code: "BRIDGE_STOPPING" });
  }

  #up(link: SshLink): void {
    this.#link = link;
    this.#since = new Date();
    this.#backoff.reset();
    for (const waiter of this.#waiters.splice(0)) waiter(link);
    this.#options.onUp?.(link);
    void link.closed.then(({ reason }) => {
      if (this.#link !== link) return;
      this.#link = undefined;
      this.#since = undefined;
      this.#lastError = reason;
      if (this.#stop.signal.aborted || this.#parked) return;
      this.#options.log.warn("SSH link lost, reconnecting", { reason });
      this.#ensureLoop();
    });
  }

  #ensureLoop(): void {
    this.#loop ??= this.#reconnect().finally(() => (this.#loop = undefined));
  }

  async #reconnect(): Promise<void> {
    while (!this.#stop.signal.aborted && !this.#parked && this.#link === undefined) {
      try {
        const link = await this.#options.connect();
        if (this.#stop.signal.aborted) return link.close();
        this.#reconnects++;
        this.#options.log.info("SSH link up again", { reconnects: this.#reconnects });
        this.#up(link);
        return;
      } catch (error) {
        this.#lastError = errorMessage(error);
        const delay = this.#backoff.next();
        this.#options.log.warn("SSH connect failed, retrying", { error: this.#lastError, retry_in_ms: delay });
        if (!(await sleep(delay, this.#stop.signal))) return;
      }
    }
  }
}
