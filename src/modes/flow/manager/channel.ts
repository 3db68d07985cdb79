/**
 * The manager's side of the container channel: one Unix-socket listener per container, in a
 * directory of its own that is the only part of the socket dir bind-mounted into that container.
 * The manager listens and the agent connects, so an agent can (re)connect whenever either side
 * restarts; requests go out, responses are matched to them by id, events come in.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join, resolve } from "node:path";
import type { Logger } from "../../../core/logger.ts";
import { AgentConnection, ChannelError } from "./_agent-connection.ts";
import { KeyedSerialQueue } from "../../../core/serial-queue.ts";
import { checkSocketPathLength, dirNamePattern, ensureOwnDir, linkName, listenInDir, shortIdLength, sweepDirs } from "./_channel-fs.ts";

export { ChannelError, type ChannelErrorKind } from "./_agent-connection.ts";

export interface ChannelOptions {
  /** `flow.socket_dir`: holds one directory per container. */
  socketDir: string;
  log: Logger;
  /** How long a request waits for its answer unless it says otherwise. */
  requestTimeoutMs: number;
  /** An event a container sent unasked. */
  onEvent(containerId: string, command: string, data: unknown): void;
  /** A container's agent connected or went away (told on changes only, not when a connection replaces another). */
  onConnectionChange?(containerId: string, connected: boolean): void;
}

interface Listener {
  containerId: string;
  shortId: string;
  dirName: string;
  server: Server;
  connection?: AgentConnection;
  lastCommunication: number | null;
}

/** The container channels of one manager. */
export class ChannelHub implements AsyncDisposable {
  readonly #options: ChannelOptions;
  readonly #socketDir: string;
  readonly #listeners = new Map<string, Listener>();
  /** Open and close of one container run one after the other. */
  readonly #serial = new KeyedSerialQueue();
  // Request ids are unique across connections and manager restarts, so that an answer an agent
  // relays late, over a newer connection, can never be taken for the answer to another request.
  readonly #idPrefix = randomBytes(4).toString("hex");
  #nextId = 0;

  /** Throws like {@link ChannelHub.checkSocketDir} when the socket dir is too long. */
  constructor(options: ChannelOptions) {
    ChannelHub.checkSocketDir(options.socketDir);
    this.#options = options;
    this.#socketDir = resolve(options.socketDir);
  }

  /** Throws DockernetError (code `FLOW_SOCKET_DIR`, exit code 2) naming the path when a socket under `socketDir` would not fit sun_path. */
  static checkSocketDir(socketDir: string): void {
    checkSocketPathLength(socketDir);
  }

  /** A fresh random per-container directory name (16 hex characters), chosen before the container exists. */
  newDirName(): string {
    return randomBytes(8).toString("hex");
  }

  /** The host path of a per-container directory: socketDir/dirName. */
  hostDir(dirName: string): string {
    return join(this.#socketDir, dirName);
  }

  /**
   * Creates socketDir (0700) and socketDir/dirName (0755) if needed; resolves with the latter's
   * host path. Call it before creating the container that mounts the directory: Docker would
   * otherwise create a missing one itself, with its own owner and modes. `open` does it too.
   */
  async prepareDir(dirName: string): Promise<string> {
    if (!dirNamePattern.test(dirName)) throw new Error(`flow socket directory name ${JSON.stringify(dirName)} is not 16 hex characters`);
    // 0700: containers reach their socket through their own mount, never through this path, and
    // no other user of the host can reach (or, knowing a directory's name, take over) a channel.
    await ensureOwnDir(this.#socketDir, 0o700, { recursive: true });
    const dir = this.hostDir(dirName);
    await ensureOwnDir(dir, 0o755);
    return dir;
  }

  /**
   * Listens on `socketDir/dirName/<shortId>.sock` (mode 0666: only this container has the
   * directory mounted) with the link `flow.sock` beside it, creating the directories and removing
   * a stale socket file first. Idempotent for the same container and directory.
   */
  open(containerId: string, dirName: string): Promise<void> {
    // Both become path components: refuse anything that could climb out of the socket dir.
    if (!dirNamePattern.test(dirName)) return Promise.reject(new Error(`flow socket directory name ${JSON.stringify(dirName)} is not 16 hex characters`));
    if (!/^[0-9a-f]{12,64}$/.test(containerId)) return Promise.reject(new Error(`${JSON.stringify(containerId)} is not a container ID`));
    return this.#serial.run(containerId, async () => {
      const existing = this.#listeners.get(containerId);
      if (existing?.dirName === dirName) return;
      if (existing) await this.#close(existing, false);
      const dir = await this.prepareDir(dirName);
      const shortId = containerId.slice(0, shortIdLength);
      const listener: Listener = { containerId, shortId, dirName, server: createServer(), lastCommunication: null };
      listener.server.on("connection", (socket) => this.#accept(listener, socket));
      const socketPath = await listenInDir(listener.server, dir, `${shortId}.sock`, this.#socketDir);
      listener.server.on("error", (error) => this.#options.log.warn("flow socket listener error", { container: shortId, error }));
      this.#listeners.set(containerId, listener);
      this.#options.log.debug("listening for a container's agent", { container: shortId, socket: socketPath });
    });
  }

  /** Stops listening for a container (its agent is disconnected); with `removeDir`, removes its directory too. */
  close(containerId: string, options: { removeDir?: boolean } = {}): Promise<void> {
    return this.#serial.run(containerId, async () => {
      const listener = this.#listeners.get(containerId);
      if (listener) await this.#close(listener, options.removeDir ?? false);
    });
  }

  /**
   * Sends a request and resolves with the answer's `data`. Rejects with ChannelError:
   * `not_connected`, `timeout`, `socket_error` (the connection was lost while waiting) or
   * `remote_error` (the answer carries `error`); with a plain Error when the request is over 1 MiB.
   */
  request(containerId: string, command: string, data: unknown, timeoutMs?: number): Promise<unknown> {
    const listener = this.#listeners.get(containerId);
    if (!listener?.connection) {
      const name = listener?.shortId ?? containerId.slice(0, shortIdLength);
      return Promise.reject(new ChannelError("not_connected", `container ${name} has no agent connected to its flow socket`));
    }
    const id = `${this.#idPrefix}-${++this.#nextId}`;
    return listener.connection.request(id, command, data, timeoutMs ?? this.#options.requestTimeoutMs);
  }

  /** Whether a container's agent is connected, and when the last frame went either way (ISO time). */
  status(containerId: string): { socket_connected: boolean; last_communication: string | null } {
    const listener = this.#listeners.get(containerId);
    const last = listener?.lastCommunication;
    return { socket_connected: listener?.connection !== undefined, last_communication: last == null ? null : new Date(last).toISOString() };
  }

  /** How many containers have a listener, and how many of them an agent connected. */
  counts(): { listeners: number; connected: number } {
    let connected = 0;
    for (const listener of this.#listeners.values()) if (listener.connection) connected++;
    return { listeners: this.#listeners.size, connected };
  }

  /**
   * Removes the directories of the socket dir named like ours (16 hex characters) that are not
   * in `keep` nor open: left by containers that went away while the manager was down.
   */
  async sweep(keep: ReadonlySet<string>): Promise<string[]> {
    const open = new Set([...keep, ...[...this.#listeners.values()].map((listener) => listener.dirName)]);
    return sweepDirs(this.#socketDir, open);
  }

  /** Stops every listener and keeps the directories, so that a restarted manager adopts them. */
  async closeAll(): Promise<void> {
    // An open still under way is closed too, once it is done.
    const containerIds = new Set([...this.#listeners.keys(), ...this.#serial.keys()]);
    await Promise.all([...containerIds].map((containerId) => this.close(containerId)));
  }

  /** {@link ChannelHub.closeAll}: the manager stops, its containers' directories stay. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.closeAll();
  }

  #accept(listener: Listener, socket: Socket): void {
    const { log, onEvent, onConnectionChange } = this.#options;
    const { containerId, shortId } = listener;
    const previous = listener.connection;
    const connection: AgentConnection = new AgentConnection(socket, {
      name: shortId,
      log,
      onActivity: () => {
        listener.lastCommunication = Date.now();
      },
      onEvent: (command, data) => onEvent(containerId, command, data),
      onClose: () => {
        if (listener.connection !== connection) return;
        listener.connection = undefined;
        if (onConnectionChange === undefined) log.info("a container's agent disconnected", { container: shortId });
        onConnectionChange?.(containerId, false);
      },
    });
    // One agent a container: the newest wins (the old one is likely a dead process's leftover).
    listener.connection = connection;
    previous?.close("a newer connection replaced it");
    // A first connection is logged by whoever is told of it (with the container's name), else here.
    if (previous) log.info("a container's agent reconnected (replacing its older connection)", { container: shortId });
    else if (onConnectionChange === undefined) log.info("a container's agent connected", { container: shortId });
    if (!previous) onConnectionChange?.(containerId, true);
  }

  async #close(listener: Listener, removeDir: boolean): Promise<void> {
    this.#listeners.delete(listener.containerId);
    listener.connection?.close("the manager closed the channel");
    await new Promise<void>((done) => listener.server.close(() => done()));
    const dir = this.hostDir(listener.dirName);
    if (removeDir) await rm(dir, { recursive: true, force: true });
    else await Promise.all([rm(join(dir, `${listener.shortId}.sock`), { force: true }), rm(join(dir, linkName), { force: true })]);
    this.#options.log.debug("stopped listening for a container's agent", { container: listener.shortId, removed_dir: removeDir });
  }
}
