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
  /** `default`, `bridge`, a network name or id, `host`, `none` or `container:<id>`. */
  networkMode: string;
  /** Attached networks; an entry Docker lists without a network id (a half-failed connect) is left out. */
  networks: ContainerNetwork[];
}

/** One entry of the network list. */
export interface NetworkSummary {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
}
