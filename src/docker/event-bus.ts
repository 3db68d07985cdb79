import { errorMessage } from "../core/errors.ts";
import { createLogger } from "../core/logger.ts";
import type { DockerClient } from "./client.ts";
import { eventKey, LineSplitter, parseEvent, sinceParameter } from "./events.ts";
import type { DockerEvent } from "./types.ts";

const log = createLogger("events");

/** What a mode gives the bus: a handler per event and a full resync after the stream was lost. */
export interface EventHandler {
  name: string;
  onEvent(event: DockerEvent): void | Promise<void>;
  /** Events may have been missed (the stream reconnected): look at everything again. */
  onResync?(): void | Promise<void>;
}

export interface EventBusOptions {
  /** Told about every event and every reconnect (metrics). */
  observer?: { event(type: string): void; reconnect(): void };
  /** First reconnect delay (default 1 s), doubled up to `maxBackoffMs` (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The container and network actions the modes react to (exec and health noise is filtered out by the engine). */
const actions = ["create", "start", "restart", "die", "stop", "kill", "destroy", "rename", "pause", "unpause", "connect", "disconnect"];

/**
 * One Docker events stream per process, fanned out to the running modes. Events about one
 * container reach each handler in order; different containers are handled concurrently. When the
 * stream is lost it reconnects with exponential backoff, replays from the last event seen
 * (`since=`), then asks every handler to resync.
 */
export class EventBus {
  readonly #client: DockerClient;
  readonly #handlers = new Set<EventHandler>();
  readonly #lanes = new Map<string, Promise<void>>();
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #observer: EventBusOptions["observer"];
  #stream: NodeJS.ReadableStream | undefined;
  #lastTimeNano: bigint | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #backoffMs: number;
  #stopped = false;
  #connected = false;

  constructor(client: DockerClient, options: EventBusOptions = {}) {
    this.#client = client;
    this.#initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#backoffMs = this.#initialBackoffMs;
    this.#observer = options.observer;
  }

  get connected(): boolean {
    return this.#connected;
  }

  subscribe(handler: EventHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Opens the stream; resolves once it is open, so a scan made afterwards misses nothing. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#open(false);
  }

  /** Closes the stream and waits for handlers already running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#connected = false;
    const stream = this.#stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.#stream = undefined;
    stream?.removeAllListeners();
    stream?.destroy?.();
    await Promise.allSettled([...this.#lanes.values()]);
  }

  async #open(isReconnect: boolean): Promise<void> {
    const since = this.#lastTimeNano !== undefined ? sinceParameter(this.#lastTimeNano) : undefined;
    const startedAt = BigInt(Date.now()) * 1_000_000n;
    const stream = await this.#client.openEvents({ since, filters: { type: ["container", "network"], event: actions } });
    if (this.#stopped) {
      (stream as { destroy?: () => void }).destroy?.();
      return;
    }
    this.#stream = stream;
    this.#connected = true;
    this.#backoffMs = this.#initialBackoffMs;
    this.#lastTimeNano ??= startedAt;
    log.debug(isReconnect ? "events stream reconnected" : "events stream open", { since });
    const splitter = new LineSplitter();
    stream.on("data", (chunk: Buffer | string) => {
      for (const line of splitter.push(chunk)) this.#receive(line);
    });
    const lost = (why: string) => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#connected = false;
      if (!this.#stopped) this.#scheduleReconnect(why);
    };
    stream.on("end", () => lost("stream ended"));
    stream.on("close", () => lost("stream closed"));
    stream.on("error", (error: Error) => lost(error.message));
    if (isReconnect) this.#resyncAll();
  }

  #scheduleReconnect(why: string): void {
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxBackoffMs);
    log.warn("events stream lost, reconnecting", { reason: why, retry_in_ms: delay });
    this.#retryTimer = setTimeout(() => {
      this.#observer?.reconnect();
      this.#open(true).catch((error) => {
        if (!this.#stopped) this.#scheduleReconnect(errorMessage(error));
      });
    }, delay);
  }

  #receive(line: string): void {
    const event = parseEvent(line);
    if (!event) return;
    this.#observer?.event(event.type);
    if (event.timeNano > (this.#lastTimeNano ?? 0n)) this.#lastTimeNano = event.timeNano;
    log.trace("event", { type: event.type, action: event.action, id: event.id.slice(0, 12), name: event.name });
    const key = eventKey(event);
    const previous = this.#lanes.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#deliver(event));
    this.#lanes.set(key, next);
    void next.finally(() => {
      if (this.#lanes.get(key) === next) this.#lanes.delete(key);
    });
  }

  async #deliver(event: DockerEvent): Promise<void> {
    await Promise.all(
      [...this.#handlers].map(async (handler) => {
        try {
          await handler.onEvent(event);
        } catch (error) {
          log.error("event handler failed", { mode: handler.name, action: event.action, id: event.id.slice(0, 12), error: errorMessage(error) });
        }
      }),
    );
  }

  #resyncAll(): void {
    for (const handler of this.#handlers) {
      Promise.resolve(handler.onResync?.()).catch((error) => log.error("resync failed", { mode: handler.name, error: errorMessage(error) }));
    }
  }
}
