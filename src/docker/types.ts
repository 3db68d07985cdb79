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
