import type { BridgeConfig } from "./config.ts";
import type { LinkSupervisor } from "./link/supervisor.ts";
import type { ActivityClock } from "./local/activity.ts";
import type { BridgeStatus } from "./local/control.ts";
import type { DockerReach } from "./local/port-sync.ts";
import type { PortForwards } from "./local/ports.ts";
import type { Relay } from "./local/relay.ts";
import type { BridgeWarnings } from "./local/warnings.ts";
import type { ServerLifecycle } from "./server/lifecycle.ts";
import type { RunningWork } from "./server/running-work.ts";

/** The running bridge's parts that `status` reads. */
export interface StatusParts {
  socket: string;
  servers: ServerLifecycle;
  supervisor: LinkSupervisor;
  docker: DockerReach;
  forwards: PortForwards;
  relay: Relay;
  activity: ActivityClock;
  warnings: BridgeWarnings;
  work: RunningWork;
  /** Whether an idle watch runs (a provider that creates servers). */
  idleWatch: boolean;
}

/** What `GET /status` answers, read from the parts now: the server none after an idle destroy, the new one once created again. */
export function readStatus(config: BridgeConfig, parts: StatusParts): BridgeStatus {
  const { servers, activity } = parts;
  const server = servers.current;
  return {
    pid: process.pid,
    socket: parts.socket,
    provider: servers.provider.name,
    server: server ? { name: server.name, address: `${server.host}:${server.port}`, created_by_bridge: server.createdByBridge, ...(server.hourlyPrice ? { hourly_price: server.hourlyPrice } : {}) } : null,
    ssh: parts.supervisor.status(),
    docker: parts.docker,
    forwards: parts.forwards.list(),
    warnings: parts.warnings.list(),
    activity: {
      connections: activity.connections,
      bytes: parts.relay.bytes(),
      idle_s: Math.round(activity.idleMs() / 1000),
      idle_time_left_s: parts.idleWatch ? Math.max(0, Math.round((config.idle_timeout - activity.idleMs()) / 1000)) : null,
    },
    // Idle: what keeps the server (a block of its own).
    idle: parts.idleWatch ? { counts_running: config.idle_counts_running, kept_by: parts.work.names() } : null,
  };
}
