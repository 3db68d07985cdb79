/** One network a container is attached to, as dockernet needs it. */
export interface ContainerNetwork {
  name: string;
  networkId: string;
  ipv4?: string;
  prefixLength?: number;
  gateway?: string;
  ipv6?: string;
  gateway6?: string;
}

/** A container port published on the host (`-p 8080:80` gives tcp 80). */
export interface PublishedPort {
  proto: "tcp" | "udp";
  port: number;
}

/** What dockernet reads of a container: enough to plan, nothing more. */
export interface ObservedContainer {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  running: boolean;
  /** Host PID of the container's init process; 0 when it is not running. */
  pid: number;
  labels: Record<string, string>;
  env: string[];
  networks: ContainerNetwork[];
  /** `bridge`, a network name, `host`, `none` or `container:<id>`. */
  networkMode: string;
  /** Container ports published on the host. */
  published: PublishedPort[];
  /** The OCI runtime it runs under (`runc`, `dockernet`...), when inspect says. */
  runtime?: string;
  /** Its `--dns` servers (HostConfig.Dns), when inspect says. */
  dns?: string[];
  /** The host path of its /etc/resolv.conf, when inspect says. */
  resolvConfPath?: string;
}

/** A Docker event, typed at the edge. */
export interface DockerEvent {
  type: "container" | "network" | "other";
  action: string;
  /** The container's or network's id. */
  id: string;
  /** Container name for container events; network name for network events. */
  name: string;
  attributes: Record<string, string>;
  /** Event time in nanoseconds since the epoch, for `since=` replay. */
  timeNano: bigint;
}

/** One entry of the container list: what a scan reads without inspecting each container. */
export interface ContainerSummary {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  labels: Record<string, string>;
  running: boolean;
  image: string;
  /** created, running, paused, restarting, removing, exited, dead. */
  state: string;
  /** Docker's words for it: `Up 2 minutes`, `Exited (0) 5 seconds ago`. */
  status: string;
  /** When it was created, ISO 8601. */
  created: string;
  /** `default`, `bridge`, a network name or id, `host`, `none` or `container:<id>`. */
  networkMode: string;
  /** Attached networks; an entry Docker lists without a network id (a half-failed connect) is left out. */
  networks: ContainerNetwork[];
  /** Ports bound on the host now (a running container's), with the host port Docker chose. */
  bound?: BoundPort[];
}

/** A container port bound on the host: `hostPort` is the one Docker chose when none was asked for. */
export interface BoundPort {
  /** `80/tcp`, as the port was asked for. */
  port: string;
  hostIp: string;
  hostPort: number;
}

/** One entry of the network list. */
export interface NetworkSummary {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
}

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
  /** Memory in bytes, CPUs (fractions allowed), processes; absent: Docker's default (none). */
  limits?: { memory: number; cpus: number; pids: number };
}

/** One step of an image pull, as Docker reports it per layer. */
export interface PullProgress {
  /** The layer's short id (empty for messages about the whole image). */
  layer: string;
  /** `Pulling fs layer`, `Downloading`, `Extracting`, `Pull complete`, ... */
  status: string;
  /** Bytes done and in all, when Docker says. */
  current?: number;
  total?: number;
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
  /** Ports bound on the host now, with the host port Docker chose. */
  bound?: BoundPort[];
}

/** CPU and memory of a container, from one stats sample. */
export interface ContainerUsage {
  cpu_percent: number;
  memory: { used: number; limit: number };
}

/** A port a running container publishes on its engine's host. */
export interface HostPort {
  container: { id: string; name: string };
  proto: "tcp" | "udp";
  /** The address it is bound to on that host (`0.0.0.0`, `::`, or a specific one). */
  hostIp: string;
  hostPort: number;
}
