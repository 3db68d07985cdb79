import type { BackoffPolicy } from "../core/backoff.ts";
import { createLogger } from "../core/logger.ts";
import { Dispatcher, type EventHandler } from "./_dispatcher.ts";
import { EventConnection } from "./_event-connection.ts";
import type { DockerClient } from "./client.ts";
import type { DockerEvent } from "./types.ts";

const log = createLogger("events");

export { type EventHandler } from "./_dispatcher.ts";
export { defaultActions, matchesInterest, streamFilters, type EventInterest, type EventType, type StreamFilters } from "./_interest.ts";

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

/**
 * One Docker events stream on one engine (any DockerClient), fanned out to the handlers of the
 * modes that run on it. Two parts: the connection (`_event-connection.ts`: open, reopen, replay)
 * and the dispatcher (`_dispatcher.ts`: lanes per handler and container).
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
  readonly #dispatcher: Dispatcher;
  readonly #connection: EventConnection;

  constructor(client: DockerClient, options: EventBusOptions = {}) {
    const observer = options.observer;
    const dispatcher = new Dispatcher((handler) => observer?.coalesced?.(handler));
    this.#dispatcher = dispatcher;
    this.#connection = new EventConnection(
      client,
      {
        filters: () => dispatcher.filters(),
        event: (event: DockerEvent) => {
          observer?.event(event.type);
          log.trace("event", { type: event.type, action: event.action, id: event.id.slice(0, 12), name: event.name });
          dispatcher.dispatch(event);
        },
        reconnected: () => {
          observer?.reconnect();
          dispatcher.resyncAll();
        },
      },
      options.backoff,
    );
  }

  /** Whether the stream is open (it stays so while a wider subscription reopens it). */
  get connected(): boolean {
    return this.#connection.connectedSince !== undefined;
  }

  /** Since when the current stream is open; `undefined` while disconnected. */
  get connectedSince(): Date | undefined {
    return this.#connection.connectedSince;
  }

  /** Why the stream was last lost or could not be opened; kept after it reconnects. */
  get lastError(): string | undefined {
    return this.#connection.lastError;
  }

  /** Adds a handler, before or after start(); returns its unsubscribe (queued events are then dropped). */
  subscribe(handler: EventHandler): () => void {
    const { added, unsubscribe } = this.#dispatcher.subscribe(handler);
    if (added) this.#connection.widen();
    return unsubscribe;
  }

  /** Opens the stream; resolves once it is open, so a scan made afterwards misses nothing. Rejects if it cannot. */
  start(): Promise<void> {
    return this.#connection.start();
  }

  /**
   * Closes the stream, cancels a pending reconnect, and waits for the deliveries and resyncs
   * already running (queued events are dropped). An `openEvents` request in flight is aborted;
   * a stream that arrives anyway is closed at once, and nothing is opened after it.
   */
  async stop(): Promise<void> {
    this.#connection.stop();
    this.#dispatcher.clear();
    await this.#dispatcher.settled();
  }
}
