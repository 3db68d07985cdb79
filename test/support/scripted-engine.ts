import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** An event the test makes happen; `timeNano` defaults to the engine's clock (strictly increasing). */
export interface ScriptedEvent {
  type: string;
  action: string;
  id: string;
  attributes?: Record<string, string>;
  timeNano?: bigint;
}

/** One `GET /events` as the engine received it. */
export interface EventsRequest {
  /** `performance.now()` when it arrived. */
  at: number;
  url: string;
  /** `undefined` when absent or empty (docker-modem sends `since=` with nothing when unset). */
  since: string | undefined;
  filters: Record<string, string[]> | undefined;
  /** What the engine did with it. */
  answer: "stream" | "held" | number;
}

interface Sent {
  event: ScriptedEvent & { timeNano: bigint };
  line: string;
}

/** Docker's accepted `filters` keys for `/events`; others get a 400, as from dockerd. */
const knownFilters = new Set(["config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope", "secret", "service", "type", "volume"]);

/** Docker's `seconds[.nanoseconds]` form to nanoseconds. */
function parseSince(since: string): bigint | undefined {
  const match = /^(\d+)(?:\.(\d{1,9}))?$/.exec(since);
  if (!match) return undefined;
  return BigInt(match[1] ?? "0") * 1_000_000_000n + BigInt((match[2] ?? "").padEnd(9, "0"));
}

/** Docker's `label` filter: every value must match (`key` present, or `key=value`). */
function labelsMatch(values: string[], attributes: Record<string, string>): boolean {
  return values.every((value) => {
    const [key = "", expected] = value.split(/=(.*)/s);
    return key in attributes && (expected === undefined || attributes[key] === expected);
  });
}

/** dockerd's events filter for the keys the bus sends: values of one key ORed (labels ANDed), keys ANDed. */
function included(event: ScriptedEvent, filters: Record<string, string[]> | undefined): boolean {
  const attributes = event.attributes ?? {};
  const any = (key: string, value: string | undefined) => !filters?.[key]?.length || (value !== undefined && filters[key].includes(value));
  if (!any("type", event.type) || !any("event", event.action)) return false;
  if (filters?.container?.length && !(filters.container.includes(event.id) || filters.container.includes(attributes.name ?? ""))) return false;
  return !filters?.label?.length || labelsMatch(filters.label, attributes);
}

/** One line as `GET /events` streams it (Docker 24+: the old `status`/`id`/`from` too for containers). */
function eventLine(event: ScriptedEvent & { timeNano: bigint }): string {
  const attributes = event.attributes ?? {};
  const old = event.type === "container" ? { status: event.action, id: event.id, from: attributes.image ?? "busybox:latest" } : {};
  const body = { ...old, Type: event.type, Action: event.action, Actor: { ID: event.id, Attributes: attributes }, scope: "local", time: Number(event.timeNano / 1_000_000_000n) };
  // timeNano goes in as digits: a JSON number through a double would lose the last ones.
  return `${JSON.stringify(body).slice(0, -1)},"timeNano":${event.timeNano}}`;
}

/**
 * A real HTTP server on a Unix socket that answers `/_ping` and `GET [/vX.Y]/events` the way
 * dockerd does (200, `application/json`, one JSON event per line, `since=` replays the history,
 * `filters` applied), scripted by the test: emit events, cut streams, refuse or fail requests,
 * hold them unanswered. Reach it with `new DockerClient(engine.host)`.
 */
export class ScriptedEngine {
  readonly dir = mkdtempSync(join(tmpdir(), "dockernet-engine-"));
  readonly socketPath = join(this.dir, "docker.sock");
  readonly requests: EventsRequest[] = [];
  readonly #history: Sent[] = [];
  readonly #streams = new Map<ServerResponse, Record<string, string[]> | undefined>();
  readonly #held: { response: ServerResponse; request: EventsRequest }[] = [];
  #server: Server | undefined;
  #failWith: number | undefined;
  #holding = false;
  #lastNano = 0n;

  /** Starts an engine listening on a fresh socket. */
  static async start(): Promise<ScriptedEngine> {
    const engine = new ScriptedEngine();
    await engine.up();
    return engine;
  }

  /** The DOCKER_HOST of this engine. */
  get host(): string {
    return `unix://${this.socketPath}`;
  }

  /** Event streams open now (answered, not yet closed by either side). */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** Listens (again) on the socket. */
  async up(): Promise<void> {
    if (this.#server) return;
    rmSync(this.socketPath, { force: true });
    const server = createServer((request, response) => this.#serve(request, response));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, () => resolve());
    });
  }

  /** Stops listening and drops every connection, open streams included: clients get ECONNREFUSED or ENOENT. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    this.#held.splice(0);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    this.#streams.clear();
    await closed;
    rmSync(this.socketPath, { force: true });
  }

  /** Ends every open events stream abruptly (the connection is destroyed, as when dockerd dies). */
  cut(): void {
    for (const response of this.#streams.keys()) response.destroy();
    this.#streams.clear();
  }

  /** Answers later `/events` requests with this status and a Docker error body; `undefined` to serve again. */
  fail(status: number | undefined): void {
    this.#failWith = status;
  }

  /** Leaves later `/events` requests unanswered (no headers) until release(). */
  hold(): void {
    this.#holding = true;
  }

  /** Answers the held requests (as streams) and stops holding. */
  release(): void {
    this.#holding = false;
    for (const { response, request } of this.#held.splice(0)) {
      request.answer = "stream";
      this.#stream(response, request);
    }
  }

  /** Makes an event happen: kept for `since=` replays and sent to every open stream whose filters include it. Returns the event with its time. */
  emit(event: ScriptedEvent): ScriptedEvent & { timeNano: bigint } {
    const now = BigInt(Date.now()) * 1_000_000n;
    const timeNano = event.timeNano ?? (now > this.#lastNano ? now + 1n : this.#lastNano + 1n);
    if (timeNano > this.#lastNano) this.#lastNano = timeNano;
    const sent = { event: { ...event, timeNano }, line: eventLine({ ...event, timeNano }) };
    this.#history.push(sent);
    for (const [response, filters] of this.#streams) if (included(sent.event, filters)) response.write(`${sent.line}\n`);
    return sent.event;
  }

  /** Waits until `count` events requests arrived (fails after `timeoutMs`). */
  async waitForRequests(count: number, timeoutMs = 5000): Promise<EventsRequest> {
    const deadline = performance.now() + timeoutMs;
    while (this.requests.length < count) {
      if (performance.now() > deadline) throw new Error(`expected ${count} events requests, got ${this.requests.length}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return this.requests[count - 1] as EventsRequest;
  }

  async close(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #serve(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://engine");
    const path = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, "");
    if (path === "/_ping") {
      response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Api-Version": "1.43" });
      response.end("OK");
      return;
    }
    if (path !== "/events" || request.method !== "GET") return this.#error(response, 404, `page not found: ${request.method} ${url.pathname}`);
    let filters: Record<string, string[]> | undefined;
    try {
      const raw = url.searchParams.get("filters");
      filters = raw ? (JSON.parse(raw) as Record<string, string[]>) : undefined;
    } catch {
      return this.#error(response, 400, "invalid filters");
    }
    const since = url.searchParams.get("since") || undefined;
    const recorded: EventsRequest = { at: performance.now(), url: request.url ?? "", since, filters, answer: "stream" };
    this.requests.push(recorded);
    const unknown = Object.keys(filters ?? {}).find((key) => !knownFilters.has(key));
    if (unknown !== undefined) return this.#error(response, (recorded.answer = 400), `invalid filter '${unknown}'`);
    if (since !== undefined && parseSince(since) === undefined) return this.#error(response, (recorded.answer = 400), `invalid since '${since}'`);
    if (this.#failWith !== undefined) return this.#error(response, (recorded.answer = this.#failWith), "scripted failure");
    if (this.#holding) {
      recorded.answer = "held";
      this.#held.push({ response, request: recorded });
      return;
    }
    this.#stream(response, recorded);
  }

  #stream(response: ServerResponse, request: EventsRequest): void {
    response.writeHead(200, { "Content-Type": "application/json" });
    response.flushHeaders();
    const since = request.since === undefined ? undefined : parseSince(request.since);
    if (since !== undefined) {
      for (const sent of this.#history) if (sent.event.timeNano >= since && included(sent.event, request.filters)) response.write(`${sent.line}\n`);
    }
    this.#streams.set(response, request.filters);
    response.on("close", () => this.#streams.delete(response));
  }

  #error(response: ServerResponse, status: number, message: string): void {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(JSON.stringify({ message }));
  }
}
