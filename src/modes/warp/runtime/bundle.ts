/**
 * What the runtime knows of a container at `start`, when the Docker API cannot tell: dockerd
 * holds the container's lock while it waits for the runtime, so inspecting it waits on itself
 * (measured on Docker 20.10: `GET /containers/ID/json` still waiting after 3 s, while
 * `GET /containers/json` answers in 15 ms, though with the container's networks not attached yet).
 * So: runc's `state` gives the parked init's pid and the OCI bundle; the bundle's `/etc/hostname`
 * mount is a file of the container's own directory in Docker's data root, which holds its
 * `config.v2.json` (name, labels, networks) and `hostconfig.json` (network mode, published ports),
 * both written at create. The namespace itself says whether the container has IPv6.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DockernetError } from "../../../core/errors.ts";
import type { ObservedContainer, PublishedPort } from "../../../docker/types.ts";
import { ipBatch } from "../../../net/ip-batch.ts";
import { runCommand } from "../../../net/runner.ts";
import type { WarpConfig } from "../config.ts";
import { labelNames } from "../labels.ts";

/** `runc state ID`: the pid of the container's init (parked until `start`) and its bundle. */
export async function runcState(runc: string, globals: readonly string[], id: string): Promise<{ pid: number; bundle: string }> {
  const { stdout } = await runCommand(runc, [...globals, "state", id]);
  let state: { pid?: unknown; bundle?: unknown } = {};
  try {
    state = JSON.parse(stdout) as typeof state;
  } catch {
    // reported below, with the id
  }
  if (typeof state?.pid !== "number" || typeof state.bundle !== "string") {
    throw new DockernetError(`runc state ${id} has no pid or bundle`, { code: "RUNTIME_STATE" });
  }
  return { pid: state.pid, bundle: state.bundle };
}

interface OciConfig {
  mounts?: { destination?: string; source?: string }[];
}

interface DockerConfigV2 {
  Name?: string;
  Config?: { Labels?: Record<string, string> | null; ExposedPorts?: Record<string, unknown> | null };
  NetworkSettings?: { Networks?: Record<string, unknown> | null };
}

interface DockerHostConfig {
  NetworkMode?: string;
  PortBindings?: Record<string, unknown[] | null> | null;
  /** `-P`: every exposed port published, on ports Docker picks at start (not in PortBindings). */
  PublishAllPorts?: boolean;
}

/** A container id as Docker names its directory. */
const containerIdPattern = /^[0-9a-f]{64}$/;

/**
 * The directory Docker keeps a container's own files in, found through the bundle; undefined for a
 * container Docker did not make. The `/etc/hostname` mount is `<data root>/containers/<id>/hostname`,
 * but of the *other* container for `--network container:X` (Docker shares its files): so the
 * directory is this id's under the same data root, never the one the mount names.
 */
export async function containerDir(bundle: string, id: string): Promise<string | undefined> {
  const file = join(bundle, "config.json");
  let config: OciConfig;
  try {
    config = JSON.parse(await readFile(file, "utf8")) as OciConfig;
  } catch (error) {
    throw new DockernetError(`container ${id.slice(0, 12)}: cannot read ${file}: ${(error as Error).message}`, { code: "RUNTIME_CONTAINER", cause: error });
  }
  const mounts = Array.isArray(config.mounts) ? config.mounts : [];
  const hostname = mounts.find((mount) => mount.destination === "/etc/hostname")?.source;
  if (typeof hostname !== "string" || basename(hostname) !== "hostname") return undefined;
  const containers = dirname(dirname(hostname));
  if (basename(containers) !== "containers" || !containerIdPattern.test(basename(dirname(hostname))) || !containerIdPattern.test(id)) return undefined;
  return join(containers, id);
}

/** `{"80/tcp": [{HostIp, HostPort}]}` (the ports asked for) -> the ports to publish. */
export function portBindings(raw: Record<string, unknown[] | null> | null | undefined): PublishedPort[] {
  return Object.entries(raw ?? {}).flatMap(([key, bindings]) => {
    const match = /^(\d+)\/(tcp|udp)$/.exec(key);
    return match && Array.isArray(bindings) && bindings.length > 0 ? [{ port: Number(match[1]), proto: match[2] as "tcp" | "udp" }] : [];
  });
}

/** The ports a container asked to publish: its `-p` bindings, and with `-P` every port its image or `--expose` exposes. */
function publishedPorts(config: DockerConfigV2, host: DockerHostConfig): PublishedPort[] {
  const all = host.PublishAllPorts === true ? Object.fromEntries(Object.keys(config.Config?.ExposedPorts ?? {}).map((key) => [key, [{}]])) : {};
  return portBindings({ ...all, ...(host.PortBindings ?? {}) });
}

/** Name, labels and networks from a container's own files (no addresses: Docker's records get them after the start). */
export async function readContainerFiles(dir: string, id: string, pid: number): Promise<ObservedContainer> {
  const read = async <T>(file: string): Promise<T> => {
    try {
      return JSON.parse(await readFile(join(dir, file), "utf8")) as T;
    } catch (error) {
      throw new DockernetError(`container ${id.slice(0, 12)}: cannot read ${join(dir, file)}: ${(error as Error).message}`, { code: "RUNTIME_CONTAINER", cause: error });
    }
  };
  const [config, host] = await Promise.all([read<DockerConfigV2>("config.v2.json"), read<DockerHostConfig>("hostconfig.json")]);
  return {
    id,
    name: (config.Name ?? id).replace(/^\//, ""),
    running: true,
    pid,
    // Only string values: a label is a string in Docker, and nothing else may reach the plan.
    labels: Object.fromEntries(Object.entries(config.Config?.Labels ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string")),
    env: [],
    networks: Object.keys(config.NetworkSettings?.Networks ?? {}).map((name) => ({ name, networkId: "" })),
    networkMode: host.NetworkMode ?? "default",
    published: publishedPorts(config, host),
  };
}

/** Marks the container as having IPv6 when its namespace holds a global IPv6 address (the plan then covers `::/0` too). */
export async function withIpv6(container: ObservedContainer): Promise<ObservedContainer> {
  const [shown] = await ipBatch(container.pid, [["address", "show", "scope", "global"]], { family: 6, containerId: container.id });
  const addresses = (Array.isArray(shown?.output) ? shown.output : []) as { addr_info?: { local?: string }[] }[];
  const ipv6 = addresses.flatMap((link) => link.addr_info ?? []).find((info) => info.local !== undefined)?.local;
  if (ipv6 === undefined || container.networks.length === 0) return container;
  const [first, ...others] = container.networks;
  return { ...container, networks: [{ ...(first as ObservedContainer["networks"][number]), ipv6 }, ...others] };
}

/**
 * A container's warp target label and value, with what `setup` gave; undefined for a container
 * that is no target. Whatever the configured prefix, a target label ends in `.target`: without one,
 * `setup` (the config) is never called, so a broken config cannot stop other containers.
 */
export async function targetLabel<T extends { config: WarpConfig }>(labels: Record<string, string>, setup: () => Promise<T>): Promise<(T & { label: string; value: string }) | undefined> {
  if (!Object.keys(labels).some((key) => key.endsWith(".target"))) return undefined;
  const loaded = await setup();
  const label = labelNames(loaded.config.label_prefix).target;
  const value = labels[label];
  return value === undefined ? undefined : { ...loaded, label, value };
}
