/**
 * The bus's per-handler side: which handlers get an event, one lane per handler and container so
 * one container's events arrive in order, and coalescing of repeats. Delivery starts in the same
 * turn as the event was read (no timer, no extra await before the handler runs): the reconcilers'
 * event-to-change latency starts here.
 */
import { errorMessage } from "../core/errors.ts";
import { createLogger } from "../core/logger.ts";
import { matchesInterest, streamFilters, type EventInterest, type StreamFilters } from "./_interest.ts";
import { eventKey } from "./events.ts";
import type { DockerEvent } from "./types.ts";

const log = createLogger("events");

/** What a mode gives the bus: a handler per event and a full resync after the stream was lost. */
export interface EventHandler {
  name: string;
  /** Which events to deliver; absent: the default interest (see EventInterest). Read once, at subscribe. */
  interest?: EventInterest;
  onEvent(event: DockerEvent): void | Promise<void>;
  /** Events may have been missed (the stream reconnected): look at everything again. */
  onResync?(): void | Promise<void>;
}

interface Subscription {
  handler: EventHandler;
  interest: EventInterest;
  /** Per container (`eventKey`): the events waiting, not yet handed to the handler (the one in flight is not here). */
  lanes: Map<string, DockerEvent[]>;
  active: boolean;
}

/** Same transition of the same object; attributes too, so two renames in a row are both kept (warp matches both names). */
function sameEvent(a: DockerEvent, b: DockerEvent): boolean {
  if (a.type !== b.type || a.action !== b.action || a.id !== b.id) return false;
  const keys = Object.keys(a.attributes);
  return keys.length === Object.keys(b.attributes).length && keys.every((key) => a.attributes[key] === b.attributes[key]);
}

/** Hands events to the subscribed handlers; see EventBus for the rules. */
export class Dispatcher {
  readonly #subscriptions = new Map<EventHandler, Subscription>();
  /** Deliveries and resyncs running, for settled() to wait for. */
  readonly #running = new Set<Promise<void>>();
  /** Told about each event dropped as a repeat, for metrics. */
  readonly #coalesced: (handler: string) => void;

  constructor(coalesced: (handler: string) => void = () => {}) {
    this.#coalesced = coalesced;
  }

  /** Adds a handler (once); `added` says whether it is new, so the stream may need widening. */
  subscribe(handler: EventHandler): { added: boolean; unsubscribe: () => void } {
    const existing = this.#subscriptions.get(handler);
    const subscription = existing ?? { handler, interest: handler.interest ?? {}, lanes: new Map(), active: true };
    this.#subscriptions.set(handler, subscription);
    const unsubscribe = () => {
      if (this.#subscriptions.get(handler) !== subscription) return;
      this.#subscriptions.delete(handler);
      subscription.active = false;
      for (const queue of subscription.lanes.values()) queue.length = 0;
    };
    return { added: existing === undefined, unsubscribe };
  }

  /** What the stream must ask for: the union of every handler's interest. */
  filters(): StreamFilters {
    return streamFilters([...this.#subscriptions.values()].map((subscription) => subscription.interest));
  }

  /** Queues an event for every handler whose interest it matches, starting lanes that were idle. */
  dispatch(event: DockerEvent): void {
    const key = eventKey(event);
    for (const subscription of [...this.#subscriptions.values()]) {
      if (matchesInterest(event, subscription.interest)) this.#enqueue(subscription, key, event);
    }
  }

  /** Runs every handler's `onResync` once, concurrently with the deliveries. */
  resyncAll(): void {
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

  /** Drops every queued event (the ones in flight finish). */
  clear(): void {
    for (const subscription of this.#subscriptions.values()) {
      for (const queue of subscription.lanes.values()) queue.length = 0;
    }
  }

  /** Resolves once the deliveries and resyncs running now have finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }

  #enqueue(subscription: Subscription, key: string, event: DockerEvent): void {
    const queue = subscription.lanes.get(key);
    if (queue) {
      // Only the last waiting event: dropping one that matches an earlier one would reorder transitions.
      const last = queue.at(-1);
      if (last !== undefined && sameEvent(last, event)) {
        this.#coalesced(subscription.handler.name);
        return;
      }
      queue.push(event);
      return;
    }
    const fresh = [event];
    subscription.lanes.set(key, fresh);
    this.#track(this.#drain(subscription, key, fresh));
  }

  async #drain(subscription: Subscription, key: string, queue: DockerEvent[]): Promise<void> {
    try {
      for (let event = queue.shift(); event !== undefined && subscription.active; event = queue.shift()) {
        try {
          await subscription.handler.onEvent(event);
        } catch (error) {
          log.error("event handler failed", { mode: subscription.handler.name, action: event.action, id: event.id.slice(0, 12), error: errorMessage(error) });
        }
      }
    } finally {
      if (subscription.lanes.get(key) === queue) subscription.lanes.delete(key);
    }
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }
}
