import Docker from "dockerode";
import { DockernetError } from "../core/errors.ts";
import { createLogger } from "../core/logger.ts";
import { parseDockerHost, type DockerConnection } from "./host.ts";
import type { ContainerNetwork, ContainerSummary, NetworkSummary, ObservedContainer, PublishedPort } from "./types.ts";

const log = createLogger("docker");

interface RawInspect {
  Id: string;
  Name: string;
  State?: { Running?: boolean; Pid?: number };
  Config?: { Labels?: Record<string, string> | null; Env?: string[] | null };
  HostConfig?: { NetworkMode?: string; Runtime?: string; Dns?: string[] | null };
  ResolvConfPath?: string;
  NetworkSettings?: { Networks?: Record<string, RawEndpoint> | null; Ports?: Record<string, unknown[] | null> | null };
}

interface RawEndpoint {
  NetworkID?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  Gateway?: string;
  GlobalIPv6Address?: string;
  IPv6Gateway?: string;
}

function toNetworks(raw: Record<string, RawEndpoint> | null | undefined): ContainerNetwork[] {
  return Object.entries(raw ?? {}).map(([name, endpoint]) => ({
    name,
    networkId: endpoint.NetworkID ?? "",
    ipv4: endpoint.IPAddress || undefined,
    prefixLength: endpoint.IPPrefixLen || undefined,
    gateway: endpoint.Gateway || undefined,
    ipv6: endpoint.GlobalIPv6Address || undefined,
    gateway6: endpoint.IPv6Gateway || undefined,
  }));
}

/** Normalises `docker inspect` output into what the modes plan with. */
export function toObserved(raw: RawInspect): ObservedContainer {
  const running = raw.State?.Running === true;
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ""),
    running,
    pid: running ? (raw.State?.Pid ?? 0) : 0,
    labels: raw.Config?.Labels ?? {},
    env: raw.Config?.Env ?? [],
    networks: toNetworks(raw.NetworkSettings?.Networks),
    networkMode: raw.HostConfig?.NetworkMode ?? "default",
    published: toPublished(raw.NetworkSettings?.Ports),
    ...(raw.HostConfig?.Runtime ? { runtime: raw.HostConfig.Runtime } : {}),
    ...(raw.HostConfig?.Dns ? { dns: raw.HostConfig.Dns } : {}),
    ...(raw.ResolvConfPath ? { resolvConfPath: raw.ResolvConfPath } : {}),
  };
}

/** `{"80/tcp": [{HostIp, HostPort}], "53/udp": null}` -> the ports bound on the host. */
function toPublished(raw: Record<string, unknown[] | null> | null | undefined): PublishedPort[] {
  const published: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(raw ?? {})) {
    const match = /^(\d+)\/(tcp|udp)$/.exec(key);
    if (match && Array.isArray(bindings) && bindings.length > 0) published.push({ port: Number(match[1]), proto: match[2] as "tcp" | "udp" });
  }
  return published;
}

/** The HTTP status of an error docker-modem threw; undefined when the engine did not answer. */
export function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown })?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** Turns a connection failure into an error that says what to check. */
export function connectionError(connection: DockerConnection, error: unknown): DockernetError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const where = connection.shown;
  if (code === "EACCES" || code === "EPERM") {
    return new DockernetError(`permission denied on the Docker socket ${connection.socketPath ?? where}`, {
      code: "DOCKER_PERMISSION",
      hint: "run as root, or add this user to the docker group (then log in again)",
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (connection.protocol === "ssh" && /verification failed|Host denied/i.test(message)) {
    return new DockernetError(`the SSH host key of ${connection.host}:${connection.port} is not in known_hosts`, {
      code: "SSH_HOST_KEY",
      hint: `check the key, then add it: ssh-keyscan -p ${connection.port} ${connection.host} >> ~/.ssh/known_hosts`,
      cause: error,
    });
  }
  return new DockernetError(`cannot reach the Docker engine at ${where}: ${message}`, {
    code: "DOCKER_UNREACHABLE",
    hint: "is dockerd running? Check --docker-host / DOCKER_HOST and that the socket exists",
    cause: error,
  });
}

/**
 * An API error with what was being done. The code says whether trying again can help:
 * DOCKER_UNREACHABLE (no answer) and DOCKER_API (5xx) may pass, DOCKER_NOT_FOUND (404),
 * DOCKER_CONFLICT (409: a name in use, a container running) and DOCKER_REJECTED (other 4xx) will not.
 */
export function apiError(connection: DockerConnection, what: string, error: unknown): DockernetError {
  const status = statusCode(error);
  if (status === undefined) {
    const reached = connectionError(connection, error);
    return new DockernetError(`${what}: ${reached.message}`, { code: reached.code, hint: reached.hint, cause: error });
  }
  const reason = (error as { json?: { message?: unknown } }).json?.message;
  const message = typeof reason === "string" ? reason : (error as Error).message;
  const code = status === 404 ? "DOCKER_NOT_FOUND" : status === 409 ? "DOCKER_CONFLICT" : status < 500 ? "DOCKER_REJECTED" : "DOCKER_API";
  return new DockernetError(`${what}: ${message}`, { code, cause: error });
}

/** Docker's own words when an endpoint is already there (connect) or already gone (disconnect). */
function alreadyDone(error: unknown, op: "connect" | "disconnect"): boolean {
  const status = statusCode(error);
  const message = String((error as { json?: { message?: unknown } }).json?.message ?? (error as Error).message);
  if (op === "connect") return status === 403 && /already exists in network/.test(message);
  return status === 404 || /is not connected to (the )?network/.test(message);
}

/** The one Docker client of a process: small methods named after what dockernet needs. */
export class DockerClient {
  readonly connection: DockerConnection;
  readonly api: Docker;

  constructor(host: string) {
    this.connection = parseDockerHost(host);
    const { shown: _shown, ...options } = this.connection;
    // docker-modem fills unset options from DOCKER_HOST and DOCKER_CERT_PATH in the environment, which
    // would override --docker-host and the config file: every connection option is given, even if unset.
    const explicit = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, username: undefined, ca: undefined, cert: undefined, key: undefined, sshOptions: undefined };
    this.api = new Docker({ ...explicit, ...options } as Docker.DockerOptions);
  }

  /** Fails with a clear error when the engine cannot be reached. */
  async ping(): Promise<void> {
    try {
      await this.api.ping();
    } catch (error) {
      throw connectionError(this.connection, error);
    }
  }

  /** Inspects one container; `undefined` when it does not exist. */
  async inspectContainer(idOrName: string): Promise<ObservedContainer | undefined> {
    log.trace("inspect container", { container: idOrName });
    try {
      const raw = (await this.api.getContainer(idOrName).inspect()) as unknown as RawInspect;
      return toObserved(raw);
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      if (statusCode(error) === undefined) throw connectionError(this.connection, error);
      // The status decides the code: a 5xx may pass, another 4xx says the same thing again.
      throw apiError(this.connection, `inspect container ${idOrName}`, error);
    }
  }

  /** Lists containers (running only unless `all`), optionally filtered by label (`key` or `key=value`). */
  async listContainers(options: { all?: boolean; label?: string[]; name?: string[] } = {}): Promise<{ id: string; name: string; labels: Record<string, string>; running: boolean }[]> {
    const filters: Record<string, string[]> = {};
    if (options.label) filters.label = options.label;
    if (options.name) filters.name = options.name;
    log.trace("list containers", { filters });
    try {
      const list = await this.api.listContainers({ all: options.all === true, filters: JSON.stringify(filters) });
      return list.map((entry) => ({
        id: entry.Id,
        name: (entry.Names[0] ?? entry.Id).replace(/^\//, ""),
        labels: entry.Labels ?? {},
        running: entry.State === "running",
      }));
    } catch (error) {
      if (statusCode(error) === undefined) throw connectionError(this.connection, error);
      throw apiError(this.connection, "list containers", error);
    }
  }

  /** Lists containers (running only unless `all`; only the ids in `id` when given) with their networks and network mode. */
  async listContainerSummaries(options: { all?: boolean; name?: string[]; id?: string[] } = {}): Promise<ContainerSummary[]> {
    const filters: Record<string, string[]> = {};
    if (options.name) filters.name = options.name;
    if (options.id) filters.id = options.id;
    log.debug("list containers", { all: options.all === true, filters });
    try {
      const list = await this.api.listContainers({ all: options.all === true, filters: JSON.stringify(filters) });
      log.debug("listed containers", { count: list.length });
      return list.map((entry) => ({
        id: entry.Id,
        name: (entry.Names[0] ?? entry.Id).replace(/^\//, ""),
        labels: entry.Labels ?? {},
        running: entry.State === "running",
        networkMode: entry.HostConfig?.NetworkMode ?? "default",
        networks: toNetworks(entry.NetworkSettings?.Networks).filter((network) => network.networkId !== ""),
      }));
    } catch (error) {
      throw apiError(this.connection, "list containers", error);
    }
  }

  /** Lists every network with its driver. */
  async listNetworks(): Promise<NetworkSummary[]> {
    log.debug("list networks");
    try {
      const list = await this.api.listNetworks();
      log.debug("listed networks", { count: list.length });
      return list.map((entry) => ({ id: entry.Id, name: entry.Name, driver: entry.Driver, internal: entry.Internal === true }));
    } catch (error) {
      throw apiError(this.connection, "list networks", error);
    }
  }

  /**
   * Attaches a container to a network (by id or name); `already` when it was attached. `shown`
   * names them in messages when ids are passed.
   */
  async connectNetwork(network: string, container: string, shown: { network: string; container: string } = { network, container }): Promise<"connected" | "already"> {
    log.debug("connect network", { network: shown.network, container: shown.container });
    try {
      await this.api.getNetwork(network).connect({ Container: container });
      log.debug("connected network", { network: shown.network, container: shown.container });
      return "connected";
    } catch (error) {
      if (alreadyDone(error, "connect")) return "already";
      throw apiError(this.connection, `connect container ${shown.container} to network ${shown.network}`, error);
    }
  }

  /** Detaches a container from a network; `already` when it was not attached or either is gone. */
  async disconnectNetwork(network: string, container: string, shown: { network: string; container: string } = { network, container }): Promise<"disconnected" | "already"> {
    log.debug("disconnect network", { network: shown.network, container: shown.container });
    try {
      await this.api.getNetwork(network).disconnect({ Container: container });
      log.debug("disconnected network", { network: shown.network, container: shown.container });
      return "disconnected";
    } catch (error) {
      if (alreadyDone(error, "disconnect")) return "already";
      throw apiError(this.connection, `disconnect container ${shown.container} from network ${shown.network}`, error);
    }
  }

  /** Opens the events stream (`since` in Docker's `seconds.nanoseconds` form); `signal` aborts the request. */
  async openEvents(options: { since?: string; filters: Record<string, string[]>; signal?: AbortSignal }): Promise<NodeJS.ReadableStream> {
    const query = { since: options.since, filters: JSON.stringify(options.filters), abortSignal: options.signal } as unknown as Docker.GetEventsOptions;
    try {
      return await this.api.getEvents(query);
    } catch (error) {
      throw connectionError(this.connection, error);
    }
  }
}
