/**
 * A local Hetzner Cloud API v1 for tests. It exists because the real API
 * (https://api.hetzner.cloud/v1) cannot be reached from the test machines. It follows Hetzner's
 * published API documentation (https://docs.hetzner.cloud) for exactly the endpoints the `hetzner`
 * bridge provider uses, and nothing else:
 *
 *   GET /servers, POST /servers, GET /servers/{id}, DELETE /servers/{id},
 *   POST /servers/{id}/actions/shutdown, GET /server_types, GET /ssh_keys, POST /ssh_keys,
 *   GET /volumes, POST /volumes, GET /actions/{id}
 *
 * as Hetzner documents them: `Authorization: Bearer` (401 `unauthorized` without the right token),
 * resource shapes, filters (`name`, `fingerprint`, `label_selector`), pagination (`page`, `per_page`
 * up to 50, `meta.pagination` with `next_page`), 201 for creations with an `action` (and
 * `next_actions`) that is `running` and turns `success` after a short delay, and error bodies
 * `{ "error": { "code", "message", "details" } }`: 404 `not_found`, 409 `uniqueness_error`, 422
 * `invalid_input` with `details.fields`, 400 `json_error`. A server's `status` moves as Hetzner's
 * does: `initializing`, `starting`, `running`; after `shutdown` (an ACPI request: its action only
 * says it was sent) `stopping`, then `off` once the OS has stopped (`shutdownMs` later; never when
 * `ignoresShutdown`, an OS that does not react to ACPI); `deleting` until the delete action ends.
 *
 * A created server's public IPv4 is `serverIp` (point it at a test SSH host). Hetzner's server object
 * has no SSH port: the provider takes the port (and user) from `[bridge] host`, so a test sshd on
 * another port than 22 is named there. `cloudConfig()` parses a server's `user_data`, so a test can
 * give the test sshd the host key cloud-init would install.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

type Json = Record<string, unknown>;

/** One request, as the fake saw it. */
export interface FakeCall {
  /** `GET /servers`, `GET /actions/12`... (no query) */
  call: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
}

export interface HetznerFakeOptions {
  /** The token a request must carry (default `test-token`). */
  token?: string;
  /** The public IPv4 of servers it creates (default 127.0.0.1). */
  serverIp?: string;
  /** How long an action stays `running` (default 30 ms). */
  actionDelayMs?: number;
  /** How long a server's OS takes to stop after a `shutdown` (default 60 ms). */
  shutdownMs?: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Json = {},
  ) {
    super(message);
  }
}

const missing = (fields: string[]) =>
  new ApiError(422, "invalid_input", `invalid input in field${fields.length > 1 ? "s" : ""} ${fields.map((field) => `'${field}'`).join(", ")}`, {
    fields: fields.map((name) => ({ name, messages: ["Missing data for required field."] })),
  });

const invalid = (field: string, message: string) => new ApiError(422, "invalid_input", `invalid input in field '${field}'`, { fields: [{ name: field, messages: [message] }] });

const locations: Record<string, Json> = {
  fsn1: { id: 1, name: "fsn1", description: "Falkenstein DC Park 1", country: "DE", city: "Falkenstein", latitude: 50.47612, longitude: 12.370071, network_zone: "eu-central" },
  nbg1: { id: 2, name: "nbg1", description: "Nuremberg DC Park 1", country: "DE", city: "Nuremberg", latitude: 49.452102, longitude: 11.076665, network_zone: "eu-central" },
  hel1: { id: 3, name: "hel1", description: "Helsinki DC Park 1", country: "FI", city: "Helsinki", latitude: 60.169855, longitude: 24.938379, network_zone: "eu-central" },
};
const datacenters: Record<string, string> = { fsn1: "fsn1-dc14", nbg1: "nbg1-dc3", hel1: "hel1-dc2" };

const price = (location: string, hourlyNet: string, hourlyGross: string, monthlyNet: string, monthlyGross: string) => ({
  location,
  price_hourly: { net: hourlyNet, gross: hourlyGross },
  price_monthly: { net: monthlyNet, gross: monthlyGross },
  included_traffic: 21990232555520,
  price_per_tb_traffic: { net: "1.0000000000", gross: "1.1900000000000000" },
});

/** The server types the fake offers (prices as the API writes them: decimal strings, EUR). */
export const fakeServerTypes: Json[] = [
  {
    id: 104, name: "cx22", description: "CX22", cores: 2, memory: 4, disk: 40, deprecated: false, deprecation: null,
    storage_type: "local", cpu_type: "shared", architecture: "x86",
    prices: [price("fsn1", "0.0050000000", "0.0059500000000000", "3.2900000000", "3.9151000000000000"), price("nbg1", "0.0050000000", "0.0059500000000000", "3.2900000000", "3.9151000000000000"), price("hel1", "0.0050000000", "0.0059500000000000", "3.2900000000", "3.9151000000000000")],
  },
  {
    id: 22, name: "cpx11", description: "CPX 11", cores: 2, memory: 2, disk: 40, deprecated: false, deprecation: null,
    storage_type: "local", cpu_type: "shared", architecture: "x86",
    prices: [price("fsn1", "0.0070000000", "0.0083300000000000", "4.3500000000", "5.1765000000000000"), price("nbg1", "0.0070000000", "0.0083300000000000", "4.3500000000", "5.1765000000000000")],
  },
];

const images: Record<string, Json> = {
  "debian-12": { id: 114690387, type: "system", status: "available", name: "debian-12", description: "Debian 12", os_flavor: "debian", os_version: "12", architecture: "x86", rapid_deploy: true, labels: {} },
  "ubuntu-24.04": { id: 161547269, type: "system", status: "available", name: "ubuntu-24.04", description: "Ubuntu 24.04", os_flavor: "ubuntu", os_version: "24.04", architecture: "x86", rapid_deploy: true, labels: {} },
};

/**
 * One `label_selector` expression list, as Hetzner documents it: comma-separated (AND) `k=v`,
 * `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`. Undefined when it does not parse.
 */
export function labelMatcher(selector: string): ((labels: Record<string, string>) => boolean) | undefined {
  const tests: ((labels: Record<string, string>) => boolean)[] = [];
  for (const raw of selector.split(/,(?![^(]*\))/)) {
    const part = raw.trim();
    let match: RegExpExecArray | null;
    if ((match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part))) {
      const [, key = "", op, list = ""] = match;
      const values = list.split(",").map((value) => value.trim());
      tests.push((labels) => (op === "in") === (key in labels && values.includes(labels[key] ?? "")));
    } else if ((match = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part))) {
      const [, key = "", op, value] = match;
      tests.push((labels) => (op === "!=" ? labels[key] !== value : labels[key] === value));
    } else if ((match = /^(!?)([\w./-]+)$/.exec(part))) {
      const [, not, key = ""] = match;
      tests.push((labels) => (key in labels) !== (not === "!"));
    } else {
      return undefined;
    }
  }
  return (labels) => tests.every((test) => test(labels));
}

/** A local Hetzner Cloud API on 127.0.0.1 (a random port); `await using` closes it. */
export class HetznerFake {
  readonly token: string;
  /** The public IPv4 of servers created from now on. */
  serverIp: string;
  actionDelayMs: number;
  shutdownMs: number;
  /** The servers' OS does not react to ACPI: a `shutdown` leaves them running (the action still succeeds). */
  ignoresShutdown = false;
  /** Every request, in order. */
  readonly calls: FakeCall[] = [];
  readonly servers = new Map<number, Json>();
  readonly volumes = new Map<number, Json>();
  readonly sshKeys = new Map<number, Json>();
  readonly actions = new Map<number, Json>();
  /** `user_data` of each created server, by server name. */
  readonly userData = new Map<string, string>();
  readonly #server: Server;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #failures: { call: string; status: number; code: string; message: string; details: Json; times: number }[] = [];
  readonly #failingActions = new Map<string, { code: string; message: string }>();
  #nextId = { server: 4_711_000, volume: 100_000, ssh_key: 2_000, action: 1 };
  #ipSeed = 10;

  private constructor(server: Server, options: HetznerFakeOptions) {
    this.#server = server;
    this.token = options.token ?? "test-token";
    this.serverIp = options.serverIp ?? "127.0.0.1";
    this.actionDelayMs = options.actionDelayMs ?? 30;
    this.shutdownMs = options.shutdownMs ?? 60;
  }

  static async start(options: HetznerFakeOptions = {}): Promise<HetznerFake> {
    let fake: HetznerFake | undefined;
    const server = createServer((request, response) => {
      void fake!.#handle(request).then(({ status, body }) => {
        response.writeHead(status, { "Content-Type": "application/json", "RateLimit-Limit": "3600", "RateLimit-Remaining": "3599", "RateLimit-Reset": String(Math.floor(Date.now() / 1000) + 1) });
        response.end(body === undefined ? "" : JSON.stringify(body));
      });
    });
    fake = new HetznerFake(server, options);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** The API's base URL, like https://api.hetzner.cloud/v1. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  /** The call names only (`POST /servers`), in order. */
  callNames(): string[] {
    return this.calls.map((call) => call.call);
  }

  /** The next `times` requests of `call` (`GET /servers`) fail with `status` and Hetzner's error body. */
  failNext(call: string, status: number, options: { times?: number; code?: string; message?: string; details?: Json } = {}): void {
    const codes: Record<number, [string, string]> = { 401: ["unauthorized", "unable to authenticate"], 403: ["forbidden", "insufficient permissions"], 422: ["invalid_input", "invalid input"], 429: ["rate_limit_exceeded", "limit of 3600 requests per hour reached"], 500: ["server_error", "internal server error"], 503: ["unavailable", "service unavailable"] };
    const [code, message] = codes[status] ?? ["server_error", "error"];
    this.#failures.push({ call, status, code: options.code ?? code, message: options.message ?? message, details: options.details ?? {}, times: options.times ?? 1 });
  }

  /** The next action with this command (`create_server`) ends in `error`. */
  failAction(command: string, error: { code: string; message: string }): void {
    this.#failingActions.set(command, error);
  }

  /** A server as if made earlier (by a bridge that restarted, or by someone else). */
  addServer(options: { name: string; labels?: Record<string, string>; status?: string; ip?: string; serverType?: string; location?: string }): Json {
    const server = this.#serverObject({
      name: options.name,
      status: options.status ?? "running",
      ip: options.ip ?? `203.0.113.${this.#ipSeed++ % 250}`,
      serverType: options.serverType ?? "cx22",
      location: options.location ?? "fsn1",
      image: "debian-12",
      labels: options.labels ?? {},
      volumes: [],
    });
    this.servers.set(server.id as number, server);
    return server;
  }

  /** The `user_data` of the server named `name` (default: the last created), parsed as cloud-config YAML. */
  cloudConfig(name?: string): Json {
    const text = name === undefined ? [...this.userData.values()].at(-1) : this.userData.get(name);
    if (text === undefined) throw new Error(`no user_data for ${name ?? "any server"}`);
    if (!text.startsWith("#cloud-config\n")) throw new Error("user_data is not a #cloud-config document");
    return Bun.YAML.parse(text) as Json;
  }

  /** The host key cloud-init would install (`ssh_keys.ed25519_*`), e.g. for a test sshd's HostKey file. */
  hostKey(name?: string): { privateKey: string; publicKey: string } {
    const keys = this.cloudConfig(name).ssh_keys as { ed25519_private?: string; ed25519_public?: string } | undefined;
    if (!keys?.ed25519_private || !keys.ed25519_public) throw new Error("user_data installs no ed25519 host key");
    return { privateKey: keys.ed25519_private, publicKey: keys.ed25519_public };
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #handle(request: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const url = new URL(request.url ?? "/", "http://fake");
    const path = url.pathname.replace(/^\/v1(?=\/)/, "");
    const call = `${request.method} ${path}`;
    const query = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const entry: FakeCall = { call, query, body: undefined, status: 0 };
    this.calls.push(entry);
    let answer: { status: number; body?: unknown };
    try {
      if (request.headers.authorization !== `Bearer ${this.token}`) throw new ApiError(401, "unauthorized", "unable to authenticate");
      if (text !== "") {
        try {
          entry.body = JSON.parse(text);
        } catch {
          throw new ApiError(400, "json_error", "invalid JSON in request body");
        }
      }
      const failure = this.#failures.find((candidate) => candidate.call === call && candidate.times > 0);
      if (failure) {
        failure.times--;
        throw new ApiError(failure.status, failure.code, failure.message, failure.details);
      }
      answer = this.#route(request.method ?? "", path, url.searchParams, entry.body);
    } catch (thrown) {
      // A bug in the fake answers 500, as the real API does, rather than leaving the request hanging.
      const error = thrown instanceof ApiError ? thrown : new ApiError(500, "server_error", `fake: ${String(thrown)}`);
      answer = { status: error.status, body: { error: { code: error.code, message: error.message, details: error.details } } };
    }
    entry.status = answer.status;
    return answer;
  }

  #route(method: string, path: string, query: URLSearchParams, body: unknown): { status: number; body?: unknown } {
    let match: RegExpExecArray | null;
    if (path === "/servers" && method === "GET") return { status: 200, body: this.#list("servers", [...this.servers.values()], query, ["name", "status"]) };
    if (path === "/servers" && method === "POST") return { status: 201, body: this.#createServer(this.#object(body)) };
    if ((match = /^\/servers\/(\d+)$/.exec(path)) && method === "GET") return { status: 200, body: { server: { ...this.#serverById(Number(match[1])) } } };
    if ((match = /^\/servers\/(\d+)$/.exec(path)) && method === "DELETE") return { status: 200, body: this.#deleteServer(Number(match[1])) };
    if ((match = /^\/servers\/(\d+)\/actions\/shutdown$/.exec(path)) && method === "POST") return { status: 201, body: this.#shutdownServer(Number(match[1])) };
    if (path === "/server_types" && method === "GET") return { status: 200, body: this.#list("server_types", fakeServerTypes, query, ["name"]) };
    if (path === "/ssh_keys" && method === "GET") return { status: 200, body: this.#list("ssh_keys", [...this.sshKeys.values()], query, ["name", "fingerprint"]) };
    if (path === "/ssh_keys" && method === "POST") return { status: 201, body: this.#createSshKey(this.#object(body)) };
    if (path === "/volumes" && method === "GET") return { status: 200, body: this.#list("volumes", [...this.volumes.values()], query, ["name", "status"]) };
    if (path === "/volumes" && method === "POST") return { status: 201, body: this.#createVolume(this.#object(body)) };
    if ((match = /^\/actions\/(\d+)$/.exec(path)) && method === "GET") {
      const action = this.actions.get(Number(match[1]));
      if (action === undefined) throw new ApiError(404, "not_found", `action with ID '${match[1]}' not found`);
      return { status: 200, body: { action } };
    }
    throw new ApiError(404, "not_found", "not found");
  }

  #object(body: unknown): Json {
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "json_error", "request body must be a JSON object");
    return body as Json;
  }

  /** A list answer: filters, `label_selector`, then one page and `meta.pagination`. */
  #list(key: string, all: Json[], query: URLSearchParams, filters: string[]): Json {
    let items = all;
    for (const filter of filters) {
      const wanted = query.get(filter);
      if (wanted !== null) items = items.filter((item) => item[filter] === wanted);
    }
    const selector = query.get("label_selector");
    if (selector !== null) {
      const matches = labelMatcher(selector);
      if (matches === undefined) throw invalid("label_selector", "invalid label selector");
      items = items.filter((item) => matches(item.labels as Record<string, string>));
    }
    const page = Number(query.get("page") ?? "1");
    const requested = Number(query.get("per_page") ?? "25");
    if (!Number.isInteger(page) || page < 1) throw invalid("page", "must be a positive integer");
    if (!Number.isInteger(requested) || requested < 1) throw invalid("per_page", "must be a positive integer");
    const perPage = Math.min(requested, 50);
    const lastPage = Math.max(1, Math.ceil(items.length / perPage));
    return {
      [key]: items.slice((page - 1) * perPage, page * perPage),
      meta: { pagination: { page, per_page: perPage, previous_page: page > 1 ? page - 1 : null, next_page: page < lastPage ? page + 1 : null, last_page: lastPage, total_entries: items.length } },
    };
  }

  /** A `running` action that ends after `actionDelayMs` (in `error` when `failAction` asked), then applies `done`. */
  #action(command: string, resources: { id: number; type: string }[], done: () => void = () => {}): Json {
    const action: Json = { id: this.#nextId.action++, command, status: "running", progress: 0, started: new Date().toISOString(), finished: null, resources, error: null };
    this.actions.set(action.id as number, action);
    const failure = this.#failingActions.get(command);
    this.#failingActions.delete(command);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      Object.assign(action, { status: failure ? "error" : "success", progress: 100, finished: new Date().toISOString(), error: failure ?? null });
      if (!failure) done();
    }, this.actionDelayMs);
    this.#timers.add(timer);
    return { ...action };
  }

  #labels(value: unknown): Record<string, string> {
    if (value === undefined) return {};
    if (value === null || typeof value !== "object" || Object.values(value).some((item) => typeof item !== "string")) throw invalid("labels", "labels must be an object of strings");
    return value as Record<string, string>;
  }

  #serverObject(options: { name: string; status: string; ip: string; serverType: string; location: string; image: string; labels: Record<string, string>; volumes: number[] }): Json {
    const id = this.#nextId.server++;
    return {
      id,
      name: options.name,
      status: options.status,
      created: new Date().toISOString(),
      public_net: {
        ipv4: { id: id + 1, ip: options.ip, blocked: false, dns_ptr: `static.${options.ip.split(".").reverse().join(".")}.clients.your-server.de` },
        ipv6: { id: id + 2, ip: "2a01:4f8:c012:1234::/64", blocked: false, dns_ptr: [] },
        floating_ips: [],
        firewalls: [],
      },
      private_net: [],
      server_type: fakeServerTypes.find((type) => type.name === options.serverType),
      datacenter: { id: 4, name: datacenters[options.location], description: `${options.location} datacenter`, location: locations[options.location] },
      image: images[options.image],
      iso: null,
      rescue_enabled: false,
      locked: false,
      backup_window: null,
      outgoing_traffic: 0,
      ingoing_traffic: 0,
      included_traffic: 21990232555520,
      protection: { delete: false, rebuild: false },
      labels: options.labels,
      volumes: options.volumes,
      load_balancers: [],
      primary_disk_size: 40,
      placement_group: null,
    };
  }

  #createServer(body: Json): Json {
    const absent = ["name", "server_type", "image"].filter((field) => typeof body[field] !== "string" || body[field] === "");
    if (absent.length > 0) throw missing(absent);
    const name = body.name as string;
    if (!/^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(name)) throw invalid("name", "Name must be a valid hostname.");
    if (!fakeServerTypes.some((type) => type.name === body.server_type)) throw invalid("server_type", `server type ${String(body.server_type)} not found`);
    if (images[body.image as string] === undefined) throw invalid("image", `image ${String(body.image)} not found`);
    const location = (body.location as string | undefined) ?? "fsn1";
    if (locations[location] === undefined) throw invalid("location", `location ${location} not found`);
    const keys = (body.ssh_keys ?? []) as unknown[];
    if (!Array.isArray(keys) || keys.some((key) => ![...this.sshKeys.values()].some((known) => known.id === key || known.name === key))) throw invalid("ssh_keys", "ssh key not found");
    const volumeIds = (body.volumes ?? []) as unknown[];
    if (!Array.isArray(volumeIds)) throw invalid("volumes", "must be a list of volume IDs");
    const volumes = volumeIds.map((id) => {
      const volume = this.volumes.get(id as number);
      if (volume === undefined) throw invalid("volumes", `volume ${String(id)} not found`);
      if (volume.server !== null) throw invalid("volumes", `volume ${String(id)} is already attached to a server`);
      if ((volume.location as Json).name !== location) throw invalid("volumes", `volume ${String(id)} is in another location`);
      return volume;
    });
    if (body.user_data !== undefined && (typeof body.user_data !== "string" || body.user_data.length > 32 * 1024)) throw invalid("user_data", "user_data must be a string of at most 32 KiB");
    const labels = this.#labels(body.labels);
    if ([...this.servers.values()].some((server) => server.name === name)) throw new ApiError(409, "uniqueness_error", "server name is already used", { fields: [{ name: "name" }] });
    const server = this.#serverObject({ name, status: "initializing", ip: this.serverIp, serverType: body.server_type as string, location, image: body.image as string, labels, volumes: volumes.map((volume) => volume.id as number) });
    const id = server.id as number;
    this.servers.set(id, server);
    for (const volume of volumes) volume.server = id;
    if (typeof body.user_data === "string") this.userData.set(name, body.user_data);
    const start = body.start_after_create !== false;
    const action = this.#action("create_server", [{ id, type: "server" }], () => {
      server.status = start ? "starting" : "off";
    });
    const nextActions = [
      ...(start ? [this.#action("start_server", [{ id, type: "server" }], () => (server.status = "running"))] : []),
      ...volumes.map((volume) => this.#action("attach_volume", [{ id, type: "server" }, { id: volume.id as number, type: "volume" }])),
    ];
    return { server: { ...server }, action, next_actions: nextActions, root_password: null };
  }

  #serverById(id: number): Json {
    const server = this.servers.get(id);
    if (server === undefined) throw new ApiError(404, "not_found", `server with ID '${id}' not found`);
    return server;
  }

  /** ACPI shutdown: the action succeeds once sent; the server is `off` when its OS has stopped. */
  #shutdownServer(id: number): Json {
    const server = this.#serverById(id);
    if (server.status === "running" && !this.ignoresShutdown) {
      server.status = "stopping";
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (server.status === "stopping") server.status = "off";
      }, this.shutdownMs);
      this.#timers.add(timer);
    }
    return { action: this.#action("shutdown_server", [{ id, type: "server" }]) };
  }

  #deleteServer(id: number): Json {
    const server = this.#serverById(id);
    server.status = "deleting";
    return {
      action: this.#action("delete_server", [{ id, type: "server" }], () => {
        this.servers.delete(id);
        for (const volume of this.volumes.values()) if (volume.server === id) volume.server = null;
      }),
    };
  }

  #createSshKey(body: Json): Json {
    const absent = ["name", "public_key"].filter((field) => typeof body[field] !== "string" || body[field] === "");
    if (absent.length > 0) throw missing(absent);
    const [, , base64] = /^(ssh-[\w-]+|ecdsa-[\w-]+)\s+([A-Za-z0-9+/]+={0,2})(\s.*)?$/.exec((body.public_key as string).trim()) ?? [];
    if (!base64) throw invalid("public_key", "invalid public key");
    const fingerprint = createHash("md5").update(Buffer.from(base64, "base64")).digest("hex").replace(/(..)(?!$)/g, "$1:");
    const keys = [...this.sshKeys.values()];
    if (keys.some((key) => key.fingerprint === fingerprint)) throw new ApiError(409, "uniqueness_error", "SSH key with the same fingerprint already exists", { fields: [{ name: "public_key" }] });
    if (keys.some((key) => key.name === body.name)) throw new ApiError(409, "uniqueness_error", "SSH key name is already used", { fields: [{ name: "name" }] });
    const key = { id: this.#nextId.ssh_key++, name: body.name, fingerprint, public_key: (body.public_key as string).trim(), labels: this.#labels(body.labels), created: new Date().toISOString() };
    this.sshKeys.set(key.id, key);
    return { ssh_key: key };
  }

  #createVolume(body: Json): Json {
    const absent = ["name", "size"].filter((field) => body[field] === undefined || body[field] === "");
    if (body.location === undefined && body.server === undefined) absent.push("location");
    if (absent.length > 0) throw missing(absent);
    const size = body.size;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 10 || size > 10240) throw invalid("size", "size must be a whole number of GB from 10 to 10240");
    if (body.server !== undefined) throw invalid("server", "this fake creates volumes in a location only");
    if (body.automount !== undefined) throw invalid("automount", "automount needs a server");
    const location = locations[body.location as string];
    if (location === undefined) throw invalid("location", `location ${String(body.location)} not found`);
    if (body.format !== undefined && body.format !== "ext4" && body.format !== "xfs") throw invalid("format", "format must be ext4 or xfs");
    if ([...this.volumes.values()].some((volume) => volume.name === body.name)) throw new ApiError(409, "uniqueness_error", "volume name is already used", { fields: [{ name: "name" }] });
    const id = this.#nextId.volume++;
    const volume: Json = {
      id, name: body.name, size, server: null, location, linux_device: `/dev/disk/by-id/scsi-0HC_Volume_${id}`,
      protection: { delete: false }, labels: this.#labels(body.labels), status: "creating", format: body.format ?? null, created: new Date().toISOString(),
    };
    this.volumes.set(id, volume);
    const action = this.#action("create_volume", [{ id, type: "volume" }], () => (volume.status = "available"));
    return { volume: { ...volume }, action, next_actions: [] };
  }
}
