/**
 * The bus's stream side: the one events request on an engine, opened with the filters its owner
 * asks for, reopened wider when a subscription widens them, and reopened with backoff when lost,
 * each time from the resume point (see ResumePoint) so nothing is missed and nothing comes twice.
 */
import { Backoff, type BackoffPolicy, sleep } from "../core/backoff.ts";
import { errorMessage } from "../core/errors.ts";
import { createLogger } from "../core/logger.ts";
import { covers, type StreamFilters } from "./_interest.ts";
import { ResumePoint } from "./_resume-point.ts";
import type { DockerClient } from "./client.ts";
import { LineSplitter, MAX_EVENT_LINE, parseEvent } from "./events.ts";
import type { DockerEvent } from "./types.ts";

const log = createLogger("events");

/** How long opening the events stream may take before it is given up and retried. */
const openTimeoutMs = 10_000;

/** What the connection asks of and tells its owner (the bus). */
export interface ConnectionOwner {
  /** The filters a stream must ask for now. */
  filters(): StreamFilters;
  /** An event read from the stream, not a replayed duplicate, in stream order. */
  event(event: DockerEvent): void;
  /** The stream was lost and is open again: events may have been missed. */
  reconnected(): void;
}

type Stream = NodeJS.ReadableStream & { destroy?(): void; headers?: Record<string, string | string[] | undefined> };

/** Closes a stream we no longer read, without a late `error` event going unhandled. */
function discard(stream: Stream): void {
  stream.removeAllListeners();
  stream.on("error", () => {});
  stream.destroy?.();
}

/**
 * When the engine opened the stream, by its own clock (the response's `Date`, to the second,
 * so never later than the open): the engine compares `since=` with its clock, and a remote
 * engine's clock may run behind ours.
 */
function engineTimeNano(stream: Stream): bigint | undefined {
  const date = stream.headers?.date;
  const ms = typeof date === "string" ? Date.parse(date) : Number.NaN;
  return Number.isFinite(ms) ? BigInt(ms) * 1_000_000n : undefined;
}

/** One events stream, kept open between start() and stop(). */
export class EventConnection {
  readonly #client: DockerClient;
  readonly #owner: ConnectionOwner;
  readonly #backoff: Backoff;
  readonly #resume = new ResumePoint();
  /** Bumped by start() and stop(): an open, reopen or reconnect of an older epoch gives up. */
  #epoch = 0;
  #started = false;
  #abort = new AbortController();
  #stream: Stream | undefined;
  /** What the open stream asks for; set exactly while `#stream` is. */
  #openFilters: StreamFilters | undefined;
  /** The epoch whose reopen or reconnect loop is running, so there is one of each at most. */
  #reopening: number | undefined;
  #reconnecting: number | undefined;
  /** Since when the current stream is open; undefined exactly while disconnected. */
  #connectedSince: Date | undefined;
  #lastError: string | undefined;

  constructor(client: DockerClient, owner: ConnectionOwner, backoff: Partial<BackoffPolicy> = {}) {
    this.#client = client;
    this.#owner = owner;
    this.#backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.2, ...backoff });
  }

  get connectedSince(): Date | undefined {
    return this.#connectedSince;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Opens the stream; resolves once it is open. Rejects if it cannot. */
  async start(): Promise<void> {
    if (this.#started) return;
    const epoch = ++this.#epoch;
    this.#started = true;
    this.#abort = new AbortController();
    this.#resume.reset();
    this.#backoff.reset();
    try {
      await this.#open(epoch);
    } catch (error) {
      if (epoch === this.#epoch) this.#started = false;
      this.#lastError = errorMessage(error);
      throw error;
    }
    log.debug("events stream open", { since: this.#resume.since(), filters: this.#openFilters });
    this.widen();
  }

  /** Closes the stream and cancels an open or reconnect in flight; nothing is opened after it. */
  stop(): void {
    this.#epoch++;
    this.#started = false;
    this.#abort.abort();
    this.#connectedSince = undefined;
    this.#detach();
  }

  /** Reopens the stream when the owner's filters ask for more than it does. */
  widen(): void {
    if (this.#reopening !== this.#epoch && this.#tooNarrow()) void this.#reopen(this.#epoch);
  }

  /** Opens a stream with the owner's filters; false when stopped or restarted meanwhile. */
  async #open(epoch: number): Promise<boolean> {
    const filters = this.#owner.filters();
    const since = this.#resume.since();
    const requestedAt = BigInt(Date.now()) * 1_000_000n;
    log.debug("opening events stream", { since, filters });
    // An engine that accepts the connection but never answers (dockerd restarting) must not hold
    // the bus forever: the open gives up after openTimeoutMs and is retried with backoff.
    // The timer stops once the stream is open: the same signal aborts the stream's request later.
    const opening = new AbortController();
    const abort = () => opening.abort();
    this.#abort.signal.addEventListener("abort", abort, { once: true });
    const timer = setTimeout(abort, openTimeoutMs);
    let stream: Stream;
    try {
      stream = (await this.#client.openEvents({ since, filters, signal: opening.signal })) as Stream;
    } finally {
      clearTimeout(timer);
    }
    if (epoch !== this.#epoch) {
      discard(stream);
      return false;
    }
    this.#resume.opened(engineTimeNano(stream) ?? requestedAt);
    this.#stream = stream;
    this.#openFilters = filters;
    this.#connectedSince = new Date();
    // A line over the cap is dropped unread; what it said is read again by the handlers' resync.
    // (Not a reopen: Docker's `since` is inclusive, so a reopened stream would replay that same
    // line, and the one after it, for ever.)
    const splitter = new LineSplitter({
      onOverflow: () => {
        if (this.#stream !== stream) return;
        log.warn("an events line longer than the cap was dropped; every handler looks at everything again", { max_bytes: MAX_EVENT_LINE });
        this.#owner.reconnected();
      },
    });
    stream.on("data", (chunk: Buffer | string) => {
      // Stop at once when a reopen replaces this stream mid-chunk: the new one replays the rest.
      for (const line of splitter.push(chunk)) if (this.#stream === stream) this.#receive(line);
    });
    const lost = (why: string) => {
      if (this.#stream !== stream) return;
      this.#detach();
      this.#lost(why);
    };
    stream.on("end", () => lost("stream ended"));
    stream.on("close", () => lost("stream closed"));
    stream.on("error", (error: Error) => lost(error.message));
    return true;
  }

  #receive(line: string): void {
    const event = parseEvent(line);
    if (event && this.#resume.advance(event.timeNano, line)) this.#owner.event(event);
  }

  #detach(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    this.#openFilters = undefined;
    if (stream) discard(stream);
  }

  /** Whether the open stream leaves out events the owner asks for. */
  #tooNarrow(): boolean {
    return this.#openFilters !== undefined && !covers(this.#openFilters, this.#owner.filters());
  }

  async #reopen(epoch: number): Promise<void> {
    this.#reopening = epoch;
    try {
      // Subscriptions made while a reopen is in flight are checked again once it is open.
      while (epoch === this.#epoch && this.#tooNarrow()) {
        log.debug("a subscription widened the events stream, reopening it", { since: this.#resume.since() });
        // Still connected meanwhile: the stream is replaced, not lost.
        this.#detach();
        try {
          await this.#open(epoch);
        } catch (error) {
          if (epoch === this.#epoch) this.#lost(errorMessage(error));
          return;
        }
      }
    } finally {
      if (this.#reopening === epoch) this.#reopening = undefined;
    }
  }

  #lost(why: string): void {
    this.#connectedSince = undefined;
    this.#lastError = why;
    if (this.#started && this.#reconnecting !== this.#epoch) void this.#reconnect(this.#epoch);
  }

  async #reconnect(epoch: number): Promise<void> {
    this.#reconnecting = epoch;
    try {
      while (epoch === this.#epoch) {
        const delay = this.#backoff.next();
        log.warn("events stream lost, reconnecting", { reason: this.#lastError, retry_in_ms: delay });
        if (!(await sleep(delay, this.#abort.signal)) || epoch !== this.#epoch) return;
        try {
          if (!(await this.#open(epoch))) return;
        } catch (error) {
          if (epoch === this.#epoch) this.#lastError = errorMessage(error);
          continue;
        }
        this.#backoff.reset();
        log.info("events stream reconnected", { since: this.#resume.since() });
        this.#owner.reconnected();
        this.widen();
        return;
      }
    } finally {
      if (this.#reconnecting === epoch) this.#reconnecting = undefined;
    }
  }
}
