import { Backoff, type BackoffPolicy, sleep } from "../core/backoff.ts";
import { errorMessage } from "../core/errors.ts";
import { createLogger } from "../core/logger.ts";
import { covers, matchesInterest, streamFilters, type EventInterest, type StreamFilters } from "./_interest.ts";
import type { DockerClient } from "./client.ts";
import { eventKey, LineSplitter, parseEvent, sinceParameter } from "./events.ts";
import type { DockerEvent } from "./types.ts";

const log = createLogger("events");

/** How long opening the events stream may take before it is given up and retried. */
const openTimeoutMs = 10_000;

export { defaultActions, matchesInterest, streamFilters, type EventInterest, type EventType, type StreamFilters } from "./_interest.ts";

/** What a mode gives the bus: a handler per event and a full resync after the stream was lost. */
export interface EventHandler {
  name: string;
  /** Which events to deliver; absent: the default interest (see EventInterest). Read once, at subscribe. */
  interest?: EventInterest;
  onEvent(event: DockerEvent): void | Promise<void>;
  /** Events may have been missed (the stream reconnected): look at everything again. */
  onResync?(): void | Promise<void>;
}

/** Told about the stream, for metrics. */
export interface EventBusObserver {
  /** Every event read from the stream (a replayed duplicate of the last one seen is not counted). */
  event(type: string): void;
  /** Every time the stream was lost and opened again. */
  reconnect(): void;
  /** An event not delivered to `handler` because the same one was still waiting in its lane. */
  coalesced?(handler: string): void;
}

export interface EventBusOptions {
  observer?: EventBusObserver;
  /** Reconnect delays; default 1 s doubling to 30 s, up to a fifth taken off at random. */
  backoff?: Partial<BackoffPolicy>;
}

/** Events of one handler about one container, delivered one at a time. */
interface Lane {
  /** Waiting, not yet handed to the handler (the one in flight is not here). */
  queue: DockerEvent[];
}

interface Subscription {
  handler: EventHandler;
  interest: EventInterest;
  lanes: Map<string, Lane>;
  active: boolean;
}

/** Same transition of the same object; attributes too, so two renames in a row are both kept (warp matches both names). */
function sameEvent(a: DockerEvent, b: DockerEvent): boolean {
  if (a.type !== b.type || a.action !== b.action || a.id !== b.id) return false;
  const keys = Object.keys(a.attributes);
  return keys.length === Object.keys(b.attributes).length && keys.every((key) => a.attributes[key] === b.attributes[key]);
}

type EventStream = NodeJS.ReadableStream & { destroy?(): void; headers?: Record<string, string | string[] | undefined> };

/** Closes a stream we no longer read, without a late `error` event going unhandled. */
function discard(stream: EventStream): void {
  stream.removeAllListeners();
  stream.on("error", () => {});
  stream.destroy?.();
}

/**
 * When the engine opened the stream, by its own clock (the response's `Date`, to the second,
 * so never later than the open): the engine compares `since=` with its clock, and a remote
 * engine's clock may run behind ours.
 */
function engineTimeNano(stream: EventStream): bigint | undefined {
  const date = stream.headers?.date;
  const ms = typeof date === "string" ? Date.parse(date) : Number.NaN;
  return Number.isFinite(ms) ? BigInt(ms) * 1_000_000n : undefined;
}

/**
 * One Docker events stream on one engine (any DockerClient), fanned out to the handlers of the
 * modes that run on it.
 *
 * - Interest: the stream asks for the union of the handlers' interests (see streamFilters), and
 *   each handler gets only the events its own interest matches. A subscription that widens the
 *   union reopens the stream with `since=` the last event seen (the open time if none was), so
 *   the events the narrower stream left out are replayed; unsubscribing never narrows it.
 * - Order: one lane per handler and container (`eventKey`): a handler sees one container's
 *   events in order, other containers' events concurrently, and a slow handler delays no other.
 * - Coalescing: an event the same as the last one still waiting in its lane is dropped, never
 *   one matching an earlier waiting event (that would reorder transitions); the waiting one
 *   will look at the container after both happened.
 * - Reconnect: a lost stream is reopened with exponential backoff and `since=` the last event
 *   time to the nanosecond. Docker's `since` is inclusive, so that last event comes again and is
 *   dropped. Then every handler's `onResync` runs once, as soon as the new stream is open, while
 *   the replayed events are delivered: handlers are level-triggered, order between the two does
 *   not matter, and the stream being open first means the resync's scan misses nothing.
 */
export class EventBus {
  readonly #client: DockerClient;
  readonly #observer: EventBusObserver | undefined;
  readonly #backoff: Backoff;
  readonly #subscriptions = new Map<EventHandler, Subscription>();
  /** Deliveries and resyncs running, for stop() to wait for. */
  readonly #running = new Set<Promise<void>>();
  /** Bumped by start() and stop(): an open, reopen or reconnect of an older epoch gives up. */
  #epoch = 0;
  #started = false;
  #abort = new AbortController();
  #stream: EventStream | undefined;
  /** What the open stream asks for; set exactly while `#stream` is. */
  #openFilters: StreamFilters | undefined;
  /** The epoch whose reopen or reconnect loop is running, so there is one of each at most. */
  #reopening: number | undefined;
  #reconnecting: number | undefined;
  #connected = false;
  #connectedSince: Date | undefined;
  #lastError: string | undefined;
  /** When the first stream of this start() opened: where a new stream starts until an event is seen. */
  #openedNano: bigint | undefined;
  #lastEventNano: bigint | undefined;
  /** The lines seen at exactly `#lastEventNano`, to recognise their replay. */
  #seenAtLast = new Set<string>();

  constructor(client: DockerClient, options: EventBusOptions = {}) {
    this.#client = client;
    this.#observer = options.observer;
    this.#backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.2, ...options.backoff });
  }

  /** Whether the stream is open (it stays so while a wider subscription reopens it). */
  get connected(): boolean {
    return this.#connected;
  }

  /** Since when the current stream is open; `undefined` while disconnected. */
  get connectedSince(): Date | undefined {
    return this.#connectedSince;
  }

  /** Why the stream was last lost or could not be opened; kept after it reconnects. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Adds a handler, before or after start(); returns its unsubscribe (queued events are then dropped). */
  subscribe(handler: EventHandler): () => void {
    const existing = this.#subscriptions.get(handler);
    const subscription = existing ?? { handler, interest: handler.interest ?? {}, lanes: new Map(), active: true };
    this.#subscriptions.set(handler, subscription);
    if (!existing) this.#ensureCovered();
    return () => {
      if (this.#subscriptions.get(handler) !== subscription) return;
      this.#subscriptions.delete(handler);
      subscription.active = false;
      for (const lane of subscription.lanes.values()) lane.queue.length = 0;
    };
  }

  /** Opens the stream; resolves once it is open, so a scan made afterwards misses nothing. Rejects if it cannot. */
  async start(): Promise<void> {
    if (this.#started) return;
    const epoch = ++this.#epoch;
    this.#started = true;
    this.#abort = new AbortController();
    this.#openedNano = undefined;
    this.#lastEventNano = undefined;
    this.#seenAtLast.clear();
    this.#backoff.reset();
    try {
      await this.#open(epoch);
    } catch (error) {
      if (epoch === this.#epoch) this.#started = false;
      this.#lastError = errorMessage(error);
      throw error;
    }
    log.debug("events stream open", { since: this.#since(), filters: this.#openFilters });
    this.#ensureCovered();
  }

  /**
   * Closes the stream, cancels a pending reconnect, and waits for the deliveries and resyncs
   * already running (queued events are dropped). An `openEvents` request in flight is aborted;
   * a stream that arrives anyway is closed at once, and nothing is opened after it.
   */
  async stop(): Promise<void> {
    this.#epoch++;
    this.#started = false;
    this.#abort.abort();
    this.#connected = false;
    this.#connectedSince = undefined;
    this.#detach();
    for (const subscription of this.#subscriptions.values()) {
      for (const lane of subscription.lanes.values()) lane.queue.length = 0;
    }
    await Promise.allSettled([...this.#running]);
  }

  #wantedFilters(): StreamFilters {
    return streamFilters([...this.#subscriptions.values()].map((subscription) => subscription.interest));
  }

  /** Where a new stream starts replaying: the last event seen, else the first open of this start(). */
  #since(): string | undefined {
    const from = this.#lastEventNano ?? this.#openedNano;
    return from === undefined ? undefined : sinceParameter(from);
  }

  /** Opens a stream with the current union; false when the bus was stopped or restarted meanwhile. */
  async #open(epoch: number): Promise<boolean> {
    const filters = this.#wantedFilters();
    const since = this.#since();
    const requestedAt = BigInt(Date.now()) * 1_000_000n;
    log.debug("opening events stream", { since, filters });
    // An engine that accepts the connection but never answers (dockerd restarting) must not hold
    // the bus forever: the open gives up after openTimeoutMs and is retried with backoff.
    // The timer stops once the stream is open: the same signal aborts the stream's request later.
    const opening = new AbortController();
    const abort = () => opening.abort();
    this.#abort.signal.addEventListener("abort", abort, { once: true });
    const timer = setTimeout(abort, openTimeoutMs);
    let stream: EventStream;
    try {
      stream = (await this.#client.openEvents({ since, filters, signal: opening.signal })) as EventStream;
    } finally {
      clearTimeout(timer);
    }
    if (epoch !== this.#epoch) {
      discard(stream);
      return false;
    }
    this.#openedNano ??= engineTimeNano(stream) ?? requestedAt;
    this.#stream = stream;
    this.#openFilters = filters;
    this.#connected = true;
    this.#connectedSince = new Date();
    const splitter = new LineSplitter();
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

  #detach(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    this.#openFilters = undefined;
    if (stream) discard(stream);
  }

  /** Whether the open stream leaves out events a subscription asks for. */
  #tooNarrow(): boolean {
    return this.#openFilters !== undefined && !covers(this.#openFilters, this.#wantedFilters());
  }

  /** Reopens the stream when a subscription widened the union beyond what it asks for. */
  #ensureCovered(): void {
    if (this.#reopening !== this.#epoch && this.#tooNarrow()) void this.#reopen(this.#epoch);
  }

  async #reopen(epoch: number): Promise<void> {
    this.#reopening = epoch;
    try {
      // Subscriptions made while a reopen is in flight are checked again once it is open.
      while (epoch === this.#epoch && this.#tooNarrow()) {
        log.debug("a subscription widened the events stream, reopening it", { since: this.#since() });
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
    this.#connected = false;
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
        this.#observer?.reconnect();
        log.info("events stream reconnected", { since: this.#since() });
        this.#resyncAll();
        this.#ensureCovered();
        return;
      }
    } finally {
      if (this.#reconnecting === epoch) this.#reconnecting = undefined;
    }
  }

  #receive(line: string): void {
    const event = parseEvent(line);
    if (!event) return;
    if (!this.#advance(event.timeNano, line)) return;
    this.#observer?.event(event.type);
    log.trace("event", { type: event.type, action: event.action, id: event.id.slice(0, 12), name: event.name });
    const key = eventKey(event);
    for (const subscription of [...this.#subscriptions.values()]) {
      if (matchesInterest(event, subscription.interest)) this.#enqueue(subscription, key, event);
    }
  }

  /**
   * Moves the resume point to the latest event; false for the replay of a line already seen at
   * that very time (Docker's `since` is inclusive). An event a little older than the latest
   * (Docker stamps events before it orders them) is delivered and leaves the point where it is.
   */
  #advance(timeNano: bigint, line: string): boolean {
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

  #enqueue(subscription: Subscription, key: string, event: DockerEvent): void {
    const lane = subscription.lanes.get(key);
    if (lane) {
      const last = lane.queue.at(-1);
      if (last !== undefined && sameEvent(last, event)) {
        this.#observer?.coalesced?.(subscription.handler.name);
        return;
      }
      lane.queue.push(event);
      return;
    }
    const fresh: Lane = { queue: [event] };
    subscription.lanes.set(key, fresh);
    this.#track(this.#drain(subscription, key, fresh));
  }

  async #drain(subscription: Subscription, key: string, lane: Lane): Promise<void> {
    try {
      for (let event = lane.queue.shift(); event !== undefined && subscription.active; event = lane.queue.shift()) {
        try {
          await subscription.handler.onEvent(event);
        } catch (error) {
          log.error("event handler failed", { mode: subscription.handler.name, action: event.action, id: event.id.slice(0, 12), error: errorMessage(error) });
        }
      }
    } finally {
      if (subscription.lanes.get(key) === lane) subscription.lanes.delete(key);
    }
  }

  #resyncAll(): void {
    for (const { handler } of this.#subscriptions.values()) {
      if (!handler.onResync) continue;
      const resync = async () => {
        try {
          await handler.onResync?.();
        } catch (error) {
          log.error("resync failed", { mode: handler.name, error: errorMessage(error) });
        }
      };
      this.#track(resync());
    }
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }
}
