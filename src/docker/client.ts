import Docker from "dockerode";
import { DockernetError, errorMessage } from "../core/errors.ts";
import { createLogger, type LogFields } from "../core/logger.ts";
import { createOptions } from "./_create.ts";
import { alreadyDone, apiError, connectionError, statusCode, unlessAlready } from "./_errors.ts";
import { toObserved, toState } from "./_inspect.ts";
import { toHostPorts, toSummary } from "./_list.ts";
import { readPull } from "./_pull.ts";
import { demuxLines } from "./log-lines.ts";
import { quietUrlParseWarning } from "./_quiet-url-parse.ts";
import { toUsage } from "./_stats.ts";
import { parseDockerHost, type DockerConnection } from "./host.ts";
import type { ContainerState, ContainerSummary, ContainerUsage, CreateSpec, HostPort, NetworkSummary, ObservedContainer, PullProgress } from "./types.ts";

export { apiError, connectionError, statusCode } from "./_errors.ts";

const log = createLogger("docker");

/** Which containers a list holds: running only unless `all`; each filter given narrows it. */
export interface ListOptions {
  all?: boolean;
  /** `key` or `key=value`. */
  label?: string[];
  name?: string[];
  id?: string[];
}

/**
 * The one Docker client of a process: small methods named after what dockernet needs, each
 * logging at debug level and rethrowing with what was being done (see apiError for the codes).
 */
export class DockerClient {
  readonly connection: DockerConnection;
  readonly api: Docker;

  constructor(host: string) {
    this.connection = parseDockerHost(host);
    const { shown: _shown, ...options } = this.connection;
    // docker-modem fills unset options from DOCKER_HOST and DOCKER_CERT_PATH in the environment, which
    // would override --docker-host and the config file: every connection option is given, even if unset.
    const explicit = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, username: undefined, ca: undefined, cert: undefined, key: undefined, sshOptions: undefined };
    if (this.connection.socketPath === undefined) quietUrlParseWarning();
    this.api = new Docker({ ...explicit, ...options } as Docker.DockerOptions);
  }

  async #call<T>(what: string, run: () => Promise<T>, fields?: LogFields): Promise<T> {
    log.debug(what, fields);
    try {
      const result = await run();
      log.debug(`${what}: done`);
      return result;
    } catch (error) {
      throw apiError(this.connection, what, error);
    }
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
    // Trace, not debug: the reconcilers inspect on every event.
    log.trace("inspect container", { container: idOrName });
    try {
      return toObserved(await this.api.getContainer(idOrName).inspect());
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      if (statusCode(error) === undefined) throw connectionError(this.connection, error);
      // The status decides the code: a 5xx may pass, another 4xx says the same thing again.
      throw apiError(this.connection, `inspect container ${idOrName}`, error);
    }
  }

  /** A container's lifecycle state (flow's view); `undefined` when it does not exist. */
  async inspectState(id: string): Promise<ContainerState | undefined> {
    try {
      return toState(await this.#call(`inspect container ${id.slice(0, 12)}`, () => this.api.getContainer(id).inspect()));
    } catch (error) {
      if ((error as { code?: string }).code === "DOCKER_NOT_FOUND") return undefined;
      throw error;
    }
  }

  /** Lists containers with their labels, state and networks. */
  async listContainers(options: ListOptions = {}): Promise<ContainerSummary[]> {
    const filters: Record<string, string[]> = {};
    for (const key of ["label", "name", "id"] as const) if (options[key]) filters[key] = options[key];
    const all = options.all === true;
    const list = await this.#call("list containers", () => this.api.listContainers({ all, filters: JSON.stringify(filters) }), { all, filters });
    return list.map(toSummary);
  }

  /** Every port published by the running containers of the engine. */
  async listHostPorts(): Promise<HostPort[]> {
    const list = await this.#call("list containers with their ports", () => this.api.listContainers({ all: false }));
    return list.flatMap(toHostPorts);
  }

  /** Lists every network with its driver. */
  async listNetworks(): Promise<NetworkSummary[]> {
    const list = await this.#call("list networks", () => this.api.listNetworks());
    return list.map((entry) => ({ id: entry.Id, name: entry.Name, driver: entry.Driver, internal: entry.Internal === true }));
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

  /** Creates a container; resolves with its id. */
  createContainer(spec: CreateSpec): Promise<string> {
    return this.#call(`create container ${spec.name ?? `from ${spec.image}`}`, async () => (await this.api.createContainer(createOptions(spec))).id);
  }

  /** Whether the engine has an image by this reference. */
  async hasImage(reference: string): Promise<boolean> {
    try {
      await this.#call(`inspect image ${reference}`, () => this.api.getImage(reference).inspect());
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === "DOCKER_NOT_FOUND") return false;
      throw error;
    }
  }

  /** Pulls an image, telling each progress step; rejects with Docker's message when the pull fails. */
  async pullImage(reference: string, onProgress: (step: PullProgress) => void): Promise<void> {
    const stream = (await this.#call(`pull image ${reference}`, () => this.api.pull(reference))) as NodeJS.ReadableStream;
    try {
      await readPull(stream, onProgress);
    } catch (error) {
      // The engine answered 200 and then failed (unknown tag, registry unreachable): its words.
      throw new DockernetError(`pull image ${reference}: ${errorMessage(error)}`, { code: "DOCKER_PULL", cause: error });
    }
  }

  /** Starts a container; one already running is left as it is. */
  startContainer(id: string): Promise<void> {
    return this.#call(`start container ${id.slice(0, 12)}`, () => unlessAlready(() => this.api.getContainer(id).start()));
  }

  /** Stops a container (SIGTERM, then SIGKILL after `timeoutS`); one already stopped is left as it is. */
  stopContainer(id: string, timeoutS = 10): Promise<void> {
    return this.#call(`stop container ${id.slice(0, 12)}`, () => unlessAlready(() => this.api.getContainer(id).stop({ t: timeoutS })));
  }

  restartContainer(id: string, timeoutS = 10): Promise<void> {
    return this.#call(`restart container ${id.slice(0, 12)}`, async () => void (await this.api.getContainer(id).restart({ t: timeoutS })));
  }

  /** Removes a container, running or not, with its anonymous volumes. */
  removeContainer(id: string): Promise<void> {
    return this.#call(`remove container ${id.slice(0, 12)}`, async () => void (await this.api.getContainer(id).remove({ force: true, v: true })));
  }

  /** CPU % and memory from one stats sample (`stream=false`: Docker samples twice, about a second apart). */
  async statsOnce(id: string): Promise<ContainerUsage> {
    return toUsage(await this.#call(`stats of container ${id.slice(0, 12)}`, () => this.api.getContainer(id).stats({ stream: false })));
  }

  /**
   * A container's log as a Docker multiplexed stream (no TTY; see demuxLines); `follow` keeps it
   * open. Always a stream, never the whole log in one buffer: a caller keeps only what it needs.
   */
  containerLogs(id: string, options: { tail?: number; follow: boolean }): Promise<NodeJS.ReadableStream> {
    const tail = options.tail === undefined ? "all" : String(options.tail);
    return this.#call(`logs of container ${id.slice(0, 12)}`, () => {
      // dockerode buffers the answer unless it follows; its modem streams it when asked to.
      const modem = this.api.modem as { dial(options: object, callback: (error: unknown, stream: unknown) => void): void };
      const dial = {
        path: `/containers/${encodeURIComponent(id)}/logs?`,
        method: "GET",
        isStream: true,
        statusCodes: { 200: true, 404: "no such container", 500: "server error" },
        options: { follow: options.follow, stdout: true, stderr: true, tail, timestamps: true },
      };
      return new Promise<NodeJS.ReadableStream>((resolve, reject) => modem.dial(dial, (error, stream) => (error ? reject(error) : resolve(stream as NodeJS.ReadableStream))));
    });
  }

  /** Unpacks a tar archive held in memory into directory `path` of the container. */
  putArchive(id: string, archive: Buffer, path: string): Promise<void> {
    return this.#call(`copy an archive into container ${id.slice(0, 12)}:${path}`, async () => void (await this.api.getContainer(id).putArchive(archive, { path })));
  }

  /** Whether `path` exists in the container's filesystem (Docker's archive HEAD; no process runs). */
  async pathExists(id: string, path: string): Promise<boolean> {
    try {
      await this.#call(`stat ${path} in container ${id.slice(0, 12)}`, () => this.api.getContainer(id).infoArchive({ path }));
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === "DOCKER_NOT_FOUND") return false;
      throw error;
    }
  }

  /**
   * Runs `command` (an argument array, no shell) in a running container as `user`; resolves with
   * its exit code and output (stdout and stderr, at most 64 KiB kept).
   */
  execIn(id: string, command: string[], user = "0"): Promise<{ exitCode: number; output: string }> {
    return this.#call(`run ${command[0]} in container ${id.slice(0, 12)}`, async () => {
      const exec = await this.api.getContainer(id).exec({ Cmd: command, User: user, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      let output = "";
      const lines = demuxLines((_which, line) => void (output.length < 65_536 && (output += `${line}\n`)));
      await new Promise<void>((resolve, reject) => stream.on("data", (chunk: Buffer) => lines(chunk)).on("end", resolve).on("close", resolve).on("error", reject));
      const info = await exec.inspect();
      return { exitCode: info.ExitCode ?? -1, output };
    });
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
