/**
 * Container lifecycle calls for the modes that create containers (flow): create, start, stop,
 * restart, remove, inspect, stats, logs, and copying a directory in. Each logs at debug level and
 * rethrows with what was being done (apiError: the code says not found, conflict, or engine error).
 */
import type Docker from "dockerode";
import { posix } from "node:path";
import { pack } from "tar-fs";
import { createLogger } from "../core/logger.ts";
import { apiError, statusCode, type DockerClient } from "./client.ts";

const log = createLogger("docker");

/** What a created container is made of; everything else is Docker's default (no privileges). */
export interface CreateSpec {
  name?: string;
  image: string;
  /** `KEY=VALUE` entries. */
  env: string[];
  cmd?: string[];
  workingDir?: string;
  labels: Record<string, string>;
  /** `host:container[:ro]` bind mounts. */
  binds: string[];
  /** Container ports published on `hostIp` (a host port of 0 or absent: any free one). */
  ports: { port: number; proto: "tcp" | "udp"; hostIp: string; hostPort?: number }[];
}

/** What a lifecycle view of a container holds (`docker inspect`, trimmed). */
export interface ContainerState {
  id: string;
  name: string;
  image: string;
  /** created, running, paused, restarting, removing, exited, dead. */
  state: string;
  running: boolean;
  /** The image's HEALTHCHECK status (starting, healthy, unhealthy), or `none`. */
  health: string;
  startedAt?: string;
  created: string;
  labels: Record<string, string>;
}

async function call<T>(client: DockerClient, what: string, run: () => Promise<T>): Promise<T> {
  log.debug(what);
  try {
    const result = await run();
    log.debug(`${what}: done`);
    return result;
  } catch (error) {
    throw apiError(client.connection, what, error);
  }
}

/** Creates a container; resolves with its id. */
export function createContainer(client: DockerClient, spec: CreateSpec): Promise<string> {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of spec.ports) {
    const key = `${port.port}/${port.proto}`;
    exposed[key] = {};
    bindings[key] = [{ HostIp: port.hostIp, HostPort: port.hostPort ? String(port.hostPort) : "" }];
  }
  const options: Docker.ContainerCreateOptions = {
    ...(spec.name ? { name: spec.name } : {}),
    Image: spec.image,
    Env: spec.env,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    Labels: spec.labels,
    ExposedPorts: exposed,
    HostConfig: { Binds: spec.binds, PortBindings: bindings, Privileged: false, CapAdd: [], Devices: [] },
  };
  return call(client, `create container ${spec.name ?? `from ${spec.image}`}`, async () => (await client.api.createContainer(options)).id);
}

/**
 * Docker answers 304 Not Modified to starting a running container or stopping a stopped one: the
 * container is as asked, which the docker CLI too reports as success.
 */
async function unlessAlready(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (statusCode(error) !== 304) throw error;
  }
}

/** Starts a container; one already running is left as it is. */
export function startContainer(client: DockerClient, id: string): Promise<void> {
  return call(client, `start container ${id.slice(0, 12)}`, () => unlessAlready(() => client.api.getContainer(id).start()));
}

/** Stops a container (SIGTERM, then SIGKILL after `timeoutS`); one already stopped is left as it is. */
export function stopContainer(client: DockerClient, id: string, timeoutS = 10): Promise<void> {
  return call(client, `stop container ${id.slice(0, 12)}`, () => unlessAlready(() => client.api.getContainer(id).stop({ t: timeoutS })));
}

export function restartContainer(client: DockerClient, id: string, timeoutS = 10): Promise<void> {
  return call(client, `restart container ${id.slice(0, 12)}`, async () => void (await client.api.getContainer(id).restart({ t: timeoutS })));
}

export function removeContainer(client: DockerClient, id: string): Promise<void> {
  return call(client, `remove container ${id.slice(0, 12)}`, async () => void (await client.api.getContainer(id).remove({ force: true, v: true })));
}

interface RawState {
  Id: string;
  Name: string;
  Created: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; Running?: boolean; StartedAt?: string; Health?: { Status?: string } };
}

/** A container's lifecycle state; undefined when it does not exist. */
export async function inspectState(client: DockerClient, id: string): Promise<ContainerState | undefined> {
  try {
    const raw = (await call(client, `inspect container ${id.slice(0, 12)}`, () => client.api.getContainer(id).inspect())) as unknown as RawState;
    return {
      id: raw.Id,
      name: raw.Name.replace(/^\//, ""),
      image: raw.Config?.Image ?? "",
      state: raw.State?.Status ?? "unknown",
      running: raw.State?.Running === true,
      health: raw.State?.Health?.Status ?? "none",
      ...(raw.State?.Running && raw.State.StartedAt ? { startedAt: raw.State.StartedAt } : {}),
      created: raw.Created,
      labels: raw.Config?.Labels ?? {},
    };
  } catch (error) {
    if ((error as { code?: string }).code === "DOCKER_NOT_FOUND") return undefined;
    throw error;
  }
}

/** One summary of every container (running or not) carrying `label` (`key=value`). */
export async function listLabelled(client: DockerClient, label: string): Promise<{ id: string; name: string; image: string; state: string; status: string; created: string; labels: Record<string, string> }[]> {
  const list = await call(client, `list containers labelled ${label}`, () => client.api.listContainers({ all: true, filters: JSON.stringify({ label: [label] }) }));
  return list.map((entry) => ({
    id: entry.Id,
    name: (entry.Names[0] ?? entry.Id).replace(/^\//, ""),
    image: entry.Image,
    state: entry.State,
    status: entry.Status,
    created: new Date(entry.Created * 1000).toISOString(),
    labels: entry.Labels ?? {},
  }));
}

interface RawStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: { inactive_file?: number; cache?: number } };
}

/** CPU % and memory from one stats sample (`stream=false`: Docker samples twice, about a second apart). */
export async function statsOnce(client: DockerClient, id: string): Promise<{ cpu_percent: number; memory: { used: number; limit: number } }> {
  const raw = (await call(client, `stats of container ${id.slice(0, 12)}`, () => client.api.getContainer(id).stats({ stream: false }))) as unknown as RawStats;
  const cpu = (raw.cpu_stats?.cpu_usage?.total_usage ?? 0) - (raw.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const system = (raw.cpu_stats?.system_cpu_usage ?? 0) - (raw.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = raw.cpu_stats?.online_cpus ?? 1;
  // What `docker stats` shows: usage minus the page cache that can be dropped.
  const cache = raw.memory_stats?.stats?.inactive_file ?? raw.memory_stats?.stats?.cache ?? 0;
  return {
    cpu_percent: system > 0 && cpu > 0 ? Math.round((cpu / system) * cpus * 10_000) / 100 : 0,
    memory: { used: Math.max(0, (raw.memory_stats?.usage ?? 0) - cache), limit: raw.memory_stats?.limit ?? 0 },
  };
}

/** A container's log as a Docker multiplexed stream (no TTY); `follow` keeps it open. */
export function containerLogs(client: DockerClient, id: string, options: { tail?: number; follow: boolean }): Promise<NodeJS.ReadableStream> {
  const what = `logs of container ${id.slice(0, 12)}`;
  const tail = options.tail === undefined ? "all" : String(options.tail);
  return call(client, what, async () => {
    const container = client.api.getContainer(id);
    const stream = options.follow
      ? await container.logs({ follow: true, stdout: true, stderr: true, tail: tail as unknown as number, timestamps: true })
      : await container.logs({ follow: false, stdout: true, stderr: true, tail: tail as unknown as number, timestamps: true });
    return stream as unknown as NodeJS.ReadableStream;
  });
}

/** Characters of one log line held before it is passed on without its end. */
const maxLineLength = 1024 * 1024;

/** Splits Docker's multiplexed log stream (8-byte frame headers) into stdout and stderr lines. */
export function demuxLines(onLine: (stream: "stdout" | "stderr", line: string) => void): (chunk: Buffer) => void {
  let buffer = Buffer.alloc(0);
  const partial = { stdout: "", stderr: "" };
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 8) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < 8 + size) break;
      const which = buffer[0] === 2 ? "stderr" : "stdout";
      const text = partial[which] + buffer.subarray(8, 8 + size).toString("utf8");
      buffer = buffer.subarray(8 + size);
      const lines = text.split("\n");
      partial[which] = lines.pop() ?? "";
      // A line that never ends is passed on in pieces rather than held without bound.
      if (partial[which].length > maxLineLength) {
        onLine(which, partial[which]);
        partial[which] = "";
      }
      for (const line of lines) onLine(which, line);
    }
  };
}

/**
 * Copies the contents of host directory `source` to `target` inside the container (Docker's
 * archive endpoint). The archive is unpacked in `target`'s parent with `target`'s own name on
 * every entry, so `target` itself need not exist yet (its parent must).
 */
export function copyDirectoryIn(client: DockerClient, id: string, source: string, target: string): Promise<void> {
  const base = posix.basename(target);
  return call(client, `copy ${source} into container ${id.slice(0, 12)}:${target}`, async () => {
    // Modes and times kept; owners are left to the container (uid 0 in the archive).
    const archive = pack(source, {
      map: (header) => ({ ...header, name: header.name === "." ? base : posix.join(base, header.name), uid: 0, gid: 0, uname: "root", gname: "root" }),
    });
    await client.api.getContainer(id).putArchive(archive, { path: posix.dirname(target) });
  });
}

/** A port a running container publishes on its engine's host. */
export interface HostPort {
  container: { id: string; name: string };
  proto: "tcp" | "udp";
  /** The address it is bound to on that host (`0.0.0.0`, `::`, or a specific one). */
  hostIp: string;
  hostPort: number;
}

/** Every port published by the running containers of an engine. */
export async function listHostPorts(client: DockerClient): Promise<HostPort[]> {
  const list = await call(client, "list containers with their ports", () => client.api.listContainers({ all: false }));
  return list.flatMap((entry) =>
    (entry.Ports ?? []).flatMap((port) =>
      port.PublicPort
        ? [{ container: { id: entry.Id, name: (entry.Names[0] ?? entry.Id).replace(/^\//, "") }, proto: port.Type === "udp" ? ("udp" as const) : ("tcp" as const), hostIp: port.IP ?? "0.0.0.0", hostPort: port.PublicPort }]
        : [],
    ),
  );
}
