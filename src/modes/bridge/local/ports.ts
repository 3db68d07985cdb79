import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { SerialQueue } from "../../../core/serial-queue.ts";
import type { HostPort } from "../../../docker/types.ts";
import type { ActivityClock } from "./activity.ts";
import type { BridgeWarnings } from "./warnings.ts";
import { relayWhenOpen } from "./_pipe.ts";

export interface PortForwardsOptions {
  log: Logger;
  /** A busy local port: `increment` tries requested+1000 … +1999, `fail` skips it. */
  conflict: "increment" | "fail";
  activity: ActivityClock;
  /** A TCP connection from the server to `host:port`, over the SSH link. */
  dial(host: string, port: number, signal: AbortSignal): Promise<Duplex>;
  /** Where a moved, unforwarded or UDP port is kept for `bridge status` while it lasts (besides the log). */
  warnings?: BridgeWarnings;
}

/** One forward as `status` shows it. */
export interface ForwardStatus {
  container: string;
  remote: string;
  requested: number;
  actual: number;
  bytes: number;
  connections: number;
}

interface Forward {
  key: string;
  status: ForwardStatus;
  servers: Server[];
  /** Connections in progress, closed with the forward. */
  sockets: Set<Socket>;
}

/** The address a forwarded connection goes to on the server: a wildcard bind is reached on loopback. */
function remoteAddress(hostIp: string): string {
  return hostIp === "" || hostIp === "0.0.0.0" || hostIp === "::" ? "127.0.0.1" : hostIp;
}

/** Listens on `port` of `host`; resolves undefined when the port is taken (or the address absent). */
function listen(host: string, port: number, onConnection: (socket: Socket) => void): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    // Half-open allowed: an HTTP client may end its request side and still read the answer.
    const server = createServer({ allowHalfOpen: true }, onConnection);
    const refused = (error: NodeJS.ErrnoException) => {
      // EACCES: a port below 1024 for a user who may not bind it; like a busy port, another is tried.
      if (["EADDRINUSE", "EADDRNOTAVAIL", "EAFNOSUPPORT", "EACCES"].includes(error.code ?? "")) resolve(undefined);
      else reject(error);
    };
    server.once("error", refused);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", refused);
      // Later errors (EMFILE on accept) are logged by the caller's handler, never unhandled.
      server.on("error", () => {});
      resolve(server);
    });
  });
}

/**
 * The local ends of the remote engine's published TCP ports: one listener on 127.0.0.1 (and ::1
 * when the machine has it) per port, each connection forwarded over the SSH link to the port on
 * the server. `sync` makes the listeners match the published ports exactly.
 */
export class PortForwards {
  readonly #options: PortForwardsOptions;
  readonly #forwards = new Map<string, Forward>();
  readonly #warned = new Set<string>();
  /** Ports that found no local port, reported once (each scan would try them again). */
  readonly #unbound = new Set<string>();
  /** Syncs and closeAll, one after the other. */
  readonly #queue = new SerialQueue();
  /** After closeAll: a scan still running when the bridge stops opens nothing more. */
  #closed = false;

  constructor(options: PortForwardsOptions) {
    this.#options = options;
  }

  /**
   * Opens forwards for ports not forwarded yet, closes those of ports no longer published. Syncs
   * run one after the other: two at once would both open a new port, the second on +1000.
   */
  sync(ports: readonly HostPort[]): Promise<void> {
    return this.#queue.run(() => this.#sync(ports));
  }

  async #sync(ports: readonly HostPort[]): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map<string, HostPort>();
    const udp = new Set<string>();
    for (const port of ports) {
      if (port.proto === "udp") {
        udp.add(this.#warnUdp(port));
        continue;
      }
      // One forward per host port: Docker lists a port once per address family.
      const key = `${port.container.id}:${port.hostPort}`;
      const known = wanted.get(key);
      if (known === undefined || remoteAddress(known.hostIp) !== "127.0.0.1") wanted.set(key, port);
    }
    for (const [key, forward] of this.#forwards) if (!wanted.has(key)) await this.#close(forward, "not published any more");
    for (const key of this.#unbound) {
      if (wanted.has(key)) continue;
      this.#unbound.delete(key);
      this.#options.warnings?.clear(`unbound:${key}`);
    }
    // A UDP port no longer published: its warning ends (and is logged again if it comes back).
    for (const key of this.#warned) {
      if (udp.has(key)) continue;
      this.#warned.delete(key);
      this.#options.warnings?.clear(`udp:${key}`);
    }
    for (const [key, port] of wanted) {
      if (this.#closed || this.#forwards.has(key)) continue;
      // One port that cannot be forwarded never keeps the others from being.
      await this.#open(key, port).catch((error: unknown) =>
        this.#options.log.error("cannot forward a port", { container: port.container.name, port: port.hostPort, error: errorMessage(error) }),
      );
    }
  }

  list(): ForwardStatus[] {
    return [...this.#forwards.values()].map((forward) => ({ ...forward.status }));
  }

  /** Closes every forward (after a sync in progress, so it leaves none open); `final`: for good. */
  closeAll(options: { final?: boolean; reason?: string } = {}): Promise<void> {
    if (options.final) this.#closed = true;
    return this.#queue.run(async () => {
      for (const forward of [...this.#forwards.values()]) await this.#close(forward, options.reason ?? "bridge stopping");
    });
  }

  /** Warns once about a published UDP port; returns its key. */
  #warnUdp(port: HostPort): string {
    const key = `${port.container.id}:${port.hostPort}/udp`;
    if (this.#warned.has(key)) return key;
    this.#warned.add(key);
    this.#options.log.warn("UDP port not forwarded: SSH carries only TCP", { container: port.container.name, port: port.hostPort });
    this.#options.warnings?.set(`udp:${key}`, { container: port.container.name, message: `UDP port ${port.hostPort} not forwarded: SSH carries only TCP` });
    return key;
  }

  async #open(key: string, port: HostPort): Promise<void> {
    const { log, conflict } = this.#options;
    const remote = remoteAddress(port.hostIp);
    const status: ForwardStatus = { container: port.container.name, remote: `${remote}:${port.hostPort}`, requested: port.hostPort, actual: 0, bytes: 0, connections: 0 };
    const forward: Forward = { key, status, servers: [], sockets: new Set() };
    const candidates = conflict === "increment" ? [port.hostPort, ...Array.from({ length: 1000 }, (_, index) => port.hostPort + 1000 + index).filter((candidate) => candidate <= 65535)] : [port.hostPort];
    for (const candidate of candidates) {
      // Bound for real, not probed then bound: another program could take it in between.
      const v4 = await listen("127.0.0.1", candidate, (socket) => this.#connection(forward, remote, port.hostPort, socket));
      if (v4 === undefined) continue;
      forward.servers.push(v4);
      const v6 = await listen("::1", candidate, (socket) => this.#connection(forward, remote, port.hostPort, socket)).catch((error: unknown) => {
        v4.close();
        throw error;
      });
      if (v6) forward.servers.push(v6);
      status.actual = candidate;
      break;
    }
    if (status.actual === 0) {
      if (this.#unbound.has(key)) return;
      this.#unbound.add(key);
      const why = conflict === "fail" ? "local port busy, not forwarded (port_conflict = fail)" : "no free local port for a forward";
      log.error(why, { container: status.container, requested: status.requested });
      this.#options.warnings?.set(`unbound:${key}`, { container: status.container, message: `port ${status.requested} not forwarded: ${why}` });
      return;
    }
    if (this.#closed) {
      await Promise.all(forward.servers.map((server) => new Promise((resolve) => server.close(resolve))));
      return;
    }
    this.#forwards.set(key, forward);
    const moved = status.actual !== status.requested;
    const why = "the requested one is busy, or below 1024 for this user";
    (moved ? log.warn : log.info).call(log, moved ? `port forwarded to another local port (${why})` : "port forwarded", {
      container: status.container,
      requested: status.requested,
      actual: status.actual,
      remote: status.remote,
    });
    // `docker ps` still shows the requested port: status must say where it really is.
    if (moved) this.#options.warnings?.set(`moved:${key}`, { container: status.container, message: `port ${status.requested} is on local port ${status.actual} (${why})` });
  }

  #connection(forward: Forward, host: string, port: number, socket: Socket): void {
    const { activity, dial, log } = this.#options;
    const closed = activity.opened();
    forward.status.connections++;
    forward.sockets.add(socket);
    socket.once("close", () => forward.sockets.delete(socket));
    socket.on("error", (error) => log.debug("forwarded client connection failed", { container: forward.status.container, error: error.message }));
    relayWhenOpen(socket, (signal) => dial(host, port, signal), {
      onBytes: (count) => {
        forward.status.bytes += count;
        activity.touch();
      },
      onFailed: (error) => log.warn("forwarded connection failed", { container: forward.status.container, remote: forward.status.remote, error: errorMessage(error) }),
      onClose: () => {
        forward.status.connections--;
        closed();
      },
    });
  }

  async #close(forward: Forward, why: string): Promise<void> {
    this.#forwards.delete(forward.key);
    this.#options.warnings?.clear(`moved:${forward.key}`);
    for (const socket of forward.sockets) socket.destroy();
    await Promise.all(forward.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.#options.log.info("port forward closed", { container: forward.status.container, port: forward.status.actual, reason: why });
  }
}
