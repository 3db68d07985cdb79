/**
 * `dockernet flow serve` for tests, and its clients: a server on a free loopback port with its
 * socket dir and token in a temporary directory, socket.io clients, and requests in three
 * lines.
 *
 * ```ts
 * await using flow = await FlowServer.start(engine);
 * const client = await flow.client();
 * const created = await ok(client, "create_container", { image: AGENT_IMAGE });
 * ```
 */
import { afterEach } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io, type Socket, type SocketOptions, type ManagerOptions } from "socket.io-client";
import { Daemon, waitFor } from "./dockernet.ts";
import type { TestEngine } from "./engine.ts";
import { freePort } from "./ports.ts";

/** The owner label the manager puts on its containers. */
export const OWNER_LABEL = "dockernet.flow.owner";

/** A reply of the flow API. */
export type Reply<T = Record<string, unknown>> = { ok: true; data: T } | ErrorReply;
export interface ErrorReply {
  error: true;
  error_type: string;
  message: string;
  details: Record<string, unknown>;
  timestamp: string;
}

/** A temporary directory under /tmp (short: socket paths must fit 108 bytes). */
export function tempDir(prefix = "dnflow-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** Connects a client; resolves once the server accepted it, rejects with the connect_error. */
export function connect(url: string, token: string | undefined, options: ClientOptions = {}): Promise<Socket> {
  const socket = io(url, { ...(token === undefined ? {} : { auth: { token } }), transports: ["websocket"], reconnection: false, forceNew: true, ...options });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** One request and its acknowledgement, whatever the reply. */
export async function request<T = Record<string, unknown>>(socket: Socket, name: string, payload?: unknown, timeoutMs = 60_000): Promise<Reply<T>> {
  const args = payload === undefined ? [] : [payload];
  return (await socket.timeout(timeoutMs).emitWithAck(name, ...args)) as Reply<T>;
}

/** One request that must succeed; resolves with its `data`. */
export async function ok<T = Record<string, unknown>>(socket: Socket, name: string, payload?: unknown): Promise<T> {
  const reply = await request<T>(socket, name, payload);
  if (!("ok" in reply) || reply.ok !== true) throw new Error(`${name} ${JSON.stringify(payload)}: ${JSON.stringify(reply)}`);
  return reply.data;
}

/** One request that must fail; resolves with the failure reply. */
export async function failure(socket: Socket, name: string, payload?: unknown): Promise<ErrorReply> {
  const reply = await request(socket, name, payload);
  if (!("error" in reply)) throw new Error(`${name} ${JSON.stringify(payload)} succeeded: ${JSON.stringify(reply)}`);
  return reply;
}

/** Collects what a client receives of one event. */
export function collect<T = Record<string, unknown>>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (data: T) => void seen.push(data));
  return seen;
}

/** Options for {@link FlowServer.start}. */
export interface FlowServerOptions {
  /** More flags for `flow serve` (`--volume-root`, `--metrics-listen`...). */
  args?: string[];
  /** Reuse this directory (socket dir `s`, token file `token`): a restarted manager. */
  dir?: string;
  /** `run warp join flow` instead of `flow serve`. */
  command?: string[];
  /** The log line that says it is ready. */
  ready?: string;
  env?: Record<string, string>;
  /** Another way to start it (Deno, the compiled binary). */
  program?: [string, string[]];
  port?: number;
}

/**
 * A running `dockernet flow serve` against a test engine. {@link stop} keeps its directory (for a
 * restarted manager); dispose stops it and removes the directory too, unless it was given one.
 */
export class FlowServer implements AsyncDisposable {
  readonly #clients: Socket[] = [];
  readonly #ownsDir: boolean;

  private constructor(
    readonly daemon: Daemon,
    readonly url: string,
    readonly dir: string,
    readonly token: string,
    ownsDir: boolean,
  ) {
    this.#ownsDir = ownsDir;
  }

  get socketDir(): string {
    return join(this.dir, "s");
  }

  get tokenFile(): string {
    return join(this.dir, "token");
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  static async start(engine: TestEngine, options: FlowServerOptions = {}): Promise<FlowServer> {
    const dir = options.dir ?? (await tempDir("dnflow-srv-"));
    const port = options.port ?? (await freePort());
    const args = [...(options.command ?? ["flow", "serve"]), "--listen", `127.0.0.1:${port}`, "--socket-dir", join(dir, "s"), "--token-file", join(dir, "token"), ...(options.args ?? [])];
    let daemon: Daemon;
    try {
      daemon = await Daemon.start(engine, args, { ready: options.ready ?? "flow started", ...(options.env ? { env: options.env } : {}), ...(options.program ? { command: options.program } : {}) });
    } catch (error) {
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const token = (await readFile(join(dir, "token"), "utf8")).trim();
    return new FlowServer(daemon, `http://127.0.0.1:${port}`, dir, token, options.dir === undefined);
  }

  /** A connected client with the token; closed when the server stops. */
  async client(options: ClientOptions = {}): Promise<Socket> {
    const socket = await connect(this.url, this.token, options);
    this.#clients.push(socket);
    return socket;
  }

  /** Closes the clients and stops the server (SIGTERM); resolves with its exit code. */
  async stop(): Promise<number> {
    for (const socket of this.#clients.splice(0)) socket.close();
    return (await this.daemon.stop()).code;
  }

  /** Removes the server's directory (after {@link stop}). */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    if (this.#ownsDir) await this.remove();
  }
}

/** Removes every container a flow manager created in `engine` (they carry its label, not the test engine's). */
export async function removeFlowContainers(engine: TestEngine): Promise<void> {
  const ids = (await engine.docker(["ps", "-aq", "--filter", `label=${OWNER_LABEL}`])).stdout.split("\n").filter(Boolean);
  if (ids.length > 0) await engine.docker(["rm", "-f", ...ids]);
}

/** The IDs of every container in the engine (`docker ps -aq --no-trunc`), sorted. */
export async function allContainerIds(engine: TestEngine): Promise<string[]> {
  return (await engine.docker(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean).sort();
}

/** One of the manager's containers as `list_containers` shows it. */
export interface Listed {
  id: string;
  short_id: string;
  name: string;
  image: string;
  state: string;
  /** Docker's words, uptime included ("Up 2 seconds"): it changes while nothing else does. */
  status: string;
  socket_connected: boolean;
  last_communication: string | null;
}

/** Waits until the container's agent is connected (or, with `connected: false`, gone); list_containers says so without a stats call. */
export async function waitConnected(socket: Socket, containerId: string, connected = true, timeoutMs = 20_000): Promise<Listed> {
  return waitFor(
    `${containerId.slice(0, 12)}'s agent ${connected ? "connected" : "gone"}`,
    async () => (await ok<Listed[]>(socket, "list_containers")).find((entry) => entry.id === containerId && entry.socket_connected === connected),
    timeoutMs,
    50,
  );
}

/**
 * A flow test file's cleanup: after each test, what it pushed on `cleanups` runs (last first),
 * then every container a manager made is removed; `scratch` makes a directory removed with them.
 */
export function useFlowCleanup(engine: TestEngine, prefix: string): { cleanups: (() => Promise<unknown>)[]; scratch: () => Promise<string> } {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await removeFlowContainers(engine);
  });
  const scratch = async () => {
    const dir = await tempDir(prefix);
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };
  return { cleanups, scratch };
}
