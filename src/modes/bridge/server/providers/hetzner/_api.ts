import { retry, sleep } from "../../../../../core/backoff.ts";
import { DockernetError, errorMessage } from "../../../../../core/errors.ts";
import type { Logger } from "../../../../../core/logger.ts";

// The parts of Hetzner Cloud API v1 resources the provider reads (https://docs.hetzner.cloud).

/** An asynchronous operation: `GET /actions/{id}` until it is no longer `running`. */
export interface HetznerAction {
  id: number;
  command: string;
  status: "running" | "success" | "error";
  progress: number;
  error: { code: string; message: string } | null;
}

export interface HetznerPrice {
  location: string;
  price_hourly: { net: string; gross: string };
}

export interface HetznerServerType {
  id: number;
  name: string;
  prices: HetznerPrice[];
}

export interface HetznerServer {
  id: number;
  name: string;
  status: string;
  created: string;
  labels: Record<string, string>;
  public_net: { ipv4: { ip: string } | null };
  server_type: HetznerServerType;
  datacenter: { location: { name: string } };
}

export interface HetznerSshKey {
  id: number;
  name: string;
  fingerprint: string;
}

export interface HetznerVolume {
  id: number;
  name: string;
  size: number;
  server: number | null;
  location: { name: string };
  linux_device: string;
  labels: Record<string, string>;
}

/** An answer of the API that is not a success, or no answer at all (`status` 0). */
export class HetznerApiError extends DockernetError {
  /** The HTTP status; 0 when the API was not reached. */
  readonly status: number;
  /** Hetzner's error code (`unauthorized`, `invalid_input`, `uniqueness_error`, `not_found`...). */
  readonly apiCode: string;
  /** Whether calling again may help: 429, 5xx, and (for calls that are safe to repeat) no answer. */
  readonly retryable: boolean;

  constructor(message: string, options: { status: number; apiCode: string; retryable: boolean; hint?: string; cause?: unknown }) {
    super(message, { code: `HETZNER_${options.apiCode.toUpperCase()}`, hint: options.hint, cause: options.cause });
    this.status = options.status;
    this.apiCode = options.apiCode;
    this.retryable = options.retryable;
  }
}

const hints: Record<string, string> = {
  unauthorized: "check the API token ([bridge.hetzner] token or HCLOUD_TOKEN): a token of the Hetzner Cloud project, with Read & Write permission",
  forbidden: "the token may be read-only: create a Read & Write token in the Cloud Console (Security → API tokens)",
  invalid_input: "check [bridge.hetzner] server_type, location, image and volume_size",
  uniqueness_error: "a resource of that name exists already in the project",
  resource_limit_exceeded: "the project's limits are reached: remove unused servers or volumes, or ask Hetzner to raise them",
  rate_limit_exceeded: "too many API calls: wait a minute and try again",
};

/** `details.fields` of `invalid_input`, as `field: message` for the error message. */
function fieldDetails(details: unknown): string {
  const fields = (details as { fields?: { name?: string; messages?: string[] }[] } | undefined)?.fields;
  if (!Array.isArray(fields)) return "";
  return fields.map((field) => `${field.name ?? "?"}${field.messages?.length ? `: ${field.messages.join(", ")}` : ""}`).join("; ");
}

export interface HetznerApiOptions {
  endpoint: string;
  token: string;
  log: Logger;
  /** Calls in all for a 429 or 5xx answer, and the backoff between them (the shared `retry`). */
  retry?: { attempts?: number; initialMs?: number; maxMs?: number };
  /** Between two polls of a running action. */
  pollIntervalMs?: number;
  /** An action still running after this long is an error. */
  actionTimeoutMs?: number;
  /** One HTTP request, answer included. */
  requestTimeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

/**
 * Hetzner Cloud API v1 over `fetch`: `Authorization: Bearer`, JSON both ways, error bodies
 * (`{ "error": { "code", "message", "details" } }`) turned into errors naming the call, 429 and 5xx
 * retried with the shared backoff (4xx never), every page of a list, and action polling.
 */
export class HetznerApi {
  readonly #options: HetznerApiOptions;

  constructor(options: HetznerApiOptions) {
    this.#options = options;
  }

  /** One call, retried while the API answers 429 or 5xx; the parsed JSON answer. */
  async call<T>(method: "GET" | "POST" | "DELETE", path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const { log } = this.#options;
    const policy = { attempts: 5, initialMs: 1000, maxMs: 16_000, ...this.#options.retry };
    return await retry(() => this.#once<T>(method, path, options), {
      ...policy,
      jitter: 0.2,
      retryable: (error) => error instanceof HetznerApiError && error.retryable,
      onRetry: ({ attempt, delayMs, error }) => log.warn("Hetzner API call failed, trying again", { call: `${method} ${path}`, attempt, delay_ms: delayMs, error: errorMessage(error) }),
    });
  }

  async #once<T>(method: "GET" | "POST" | "DELETE", path: string, options: { query?: Query; body?: unknown }): Promise<T> {
    const { endpoint, token, log } = this.#options;
    const call = `${method} ${path}`;
    const url = new URL(`${endpoint}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    log.debug("Hetzner API call", { call, query: url.search || undefined });
    const started = Date.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json", ...(options.body === undefined ? {} : { "Content-Type": "application/json" }) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 30_000),
      });
      text = await response.text();
    } catch (error) {
      // Without an answer a POST may or may not have happened: only GET and DELETE are repeated.
      throw new HetznerApiError(`Hetzner API ${call}: no answer from ${endpoint}: ${errorMessage(error)}`, {
        status: 0, apiCode: "unreachable", retryable: method !== "POST", cause: error,
        hint: "check the network, or [bridge.hetzner] endpoint / HCLOUD_ENDPOINT",
      });
    }
    log.debug("Hetzner API answered", { call, status: response.status, ms: Date.now() - started });
    let body: unknown;
    try {
      body = text === "" ? {} : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok) {
      if (body === undefined) throw new HetznerApiError(`Hetzner API ${call}: the answer is not JSON (HTTP ${response.status})`, { status: response.status, apiCode: "bad_answer", retryable: false });
      return body as T;
    }
    const error = (body as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const apiCode = typeof error?.code === "string" ? error.code : `http_${response.status}`;
    const message = error?.message ?? (text.trim().slice(0, 200) || response.statusText);
    const fields = fieldDetails(error?.details);
    throw new HetznerApiError(`Hetzner API ${call} failed: ${apiCode}: ${message} (HTTP ${response.status}${fields ? `; ${fields}` : ""})`, {
      status: response.status, apiCode, retryable: response.status === 429 || response.status >= 500, hint: hints[apiCode],
    });
  }

  /** Every item of a list, page by page (`page`, `per_page`, `meta.pagination.next_page`). */
  async list<T>(path: string, key: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    for (let page: number | null = 1; page !== null; ) {
      const answer: Record<string, unknown> & { meta?: { pagination?: { next_page?: number | null } } } = await this.call("GET", path, { query: { ...query, page, per_page: 50 } });
      const found = answer[key];
      if (!Array.isArray(found)) throw new HetznerApiError(`Hetzner API GET ${path}: the answer has no "${key}" list`, { status: 200, apiCode: "bad_answer", retryable: false });
      items.push(...(found as T[]));
      const next = answer.meta?.pagination?.next_page ?? null;
      page = next !== null && next > page ? next : null;
    }
    return items;
  }

  /** Waits until each action succeeded; an action that ends in `error` is thrown as one, naming `what`. */
  async waitFor(actions: readonly HetznerAction[], what: string): Promise<void> {
    const { log } = this.#options;
    const deadline = Date.now() + (this.#options.actionTimeoutMs ?? 600_000);
    for (let action of actions) {
      while (action.status === "running") {
        if (Date.now() > deadline) throw new DockernetError(`${what}: Hetzner action ${action.command} (${action.id}) still running after ${Math.round((this.#options.actionTimeoutMs ?? 600_000) / 1000)} s`, { code: "HETZNER_ACTION_TIMEOUT" });
        await sleep(this.#options.pollIntervalMs ?? 1000);
        action = (await this.call<{ action: HetznerAction }>("GET", `/actions/${action.id}`)).action;
        log.debug("Hetzner action", { command: action.command, id: action.id, status: action.status, progress: action.progress });
      }
      if (action.status === "error") {
        throw new DockernetError(`${what}: Hetzner action ${action.command} (${action.id}) failed: ${action.error?.code ?? "error"}: ${action.error?.message ?? "no message"}`, { code: "HETZNER_ACTION_FAILED" });
      }
    }
  }
}
