import { DockernetError, errorMessage, ExitCode } from "../../../core/errors.ts";
import { parseListen } from "../../../core/listen.ts";
import { listLabelled } from "../../../docker/lifecycle.ts";
import type { DockerEvent } from "../../../docker/types.ts";
import type { DaemonContext, RunningMode } from "../../types.ts";
import { activity } from "../protocol/activity.ts";
import { FlowApi } from "./api.ts";
import { ChannelHub } from "./channel.ts";
import { socketDirLabel, type FlowConfig } from "../config.ts";
import { OwnedContainers } from "./containers.ts";
import { overlappingRoots } from "./paths.ts";
import { startFlowServer, type Broadcaster } from "./server.ts";
import { readToken } from "../protocol/token.ts";


/** The state a lifecycle event leaves a container in. */
const stateAfter: Record<string, string> = {
  create: "created",
  start: "running",
  restart: "running",
  unpause: "running",
  pause: "paused",
  die: "exited",
  stop: "exited",
  destroy: "removed",
};

/**
 * `dockernet flow serve`: adopts the manager's containers (their sockets re-created, stale ones
 * swept), serves the API and the page, and follows the manager's containers on the shared
 * events stream, so changes made outside the API reach clients too.
 */
export async function startFlow(context: DaemonContext<FlowConfig>): Promise<RunningMode> {
  const { config, log, client } = context;
  const overlap = overlappingRoots(config.volume_roots, config.code_roots);
  if (overlap) {
    throw new DockernetError(`the volume root ${overlap[0]} and the code root ${overlap[1]} overlap`, {
      code: "FLOW_ROOTS",
      exitCode: ExitCode.usage,
      hint: "a container could write where update_container reads: give them separate directories",
    });
  }
  const listen = parseListen(config.listen, "--listen");
  const owned = new OwnedContainers(context);
  // The server is made after the API it serves; until then there are no clients to tell.
  let broadcast: Broadcaster = { all: () => {}, subscribers: () => {} };
  const hub = new ChannelHub({
    socketDir: config.socket_dir,
    log,
    requestTimeoutMs: config.request_timeout,
    onEvent: (id, command, data) => broadcast.subscribers(id, "container_message", { container_id: id, name: owned.nameOf(id), command, data, time: new Date().toISOString() }),
    onConnectionChange: (id, connected) => log.info(connected ? "container connected" : "container disconnected", { container: owned.nameOf(id) }),
  });
  // After the hub refused a socket dir too long for the kernel: nothing is created for a start that fails.
  const token = await readToken(config.token_file, { create: true, log });

  /**
   * Every container of the manager gets its socket back (one that cannot is logged and skipped:
   * it must not keep the manager down); directories no container of any instance names are removed.
   */
  const adopt = async () => {
    const containers = await owned.list();
    for (const container of containers) {
      if (container.dirName === undefined) continue;
      await hub.open(container.id, container.dirName).catch((error: unknown) => log.error("cannot re-create a container's socket", { container: container.name, error: errorMessage(error) }));
    }
    // Other instances may share the socket dir: keep every directory a flow container names.
    const named = await listLabelled(client, socketDirLabel);
    const swept = await hub.sweep(new Set(named.flatMap((container) => container.labels[socketDirLabel] ?? [])));
    if (swept.length > 0) log.info("removed the sockets of containers gone", { directories: swept.length });
    return containers.length;
  };

  const onEvent = async (event: DockerEvent) => {
    const id = event.id;
    if (event.action === "rename" && event.name) owned.renamed(id, event.name);
    const name = event.name || owned.nameOf(id);
    const state = stateAfter[event.action];
    broadcast.all("container_state", { id, name, state: state ?? "unknown", action: event.action, time: new Date(Number(event.timeNano / 1_000_000n)).toISOString() });
    const exit = event.action === "die" && event.attributes.exitCode !== undefined ? ` (exit ${event.attributes.exitCode})` : "";
    broadcast.all("activity", activity("actor_event", { id, name }, `${name}: ${event.action}${exit}`, { action: event.action }));
    if (event.action === "destroy") {
      owned.forget(id);
      await hub.close(id, { removeDir: true });
    } else if (event.action === "create" || event.action === "start") {
      // Created by another client of this instance, or restarted outside the API: make sure its socket is there.
      const dirName = event.attributes[socketDirLabel];
      if (dirName !== undefined && /^[0-9a-f]{16}$/.test(dirName)) await hub.open(id, dirName);
    }
  };

  // The stream first, then the scan: a container removed in between is seen by its event.
  const unsubscribe = await context.watch({
    name: "flow",
    // Only the manager's own containers: the engine filters on the owner label.
    interest: { types: ["container"], labels: [owned.label] },
    onEvent,
    onResync: async () => void (await adopt()),
  });
  const adopted = await adopt();
  const api = new FlowApi({ client, config, log, owned, hub, announce: { activity: (entry) => broadcast.all("activity", entry) } });
  const server = await startFlowServer({ listen, token, allowedOrigins: config.allowed_origins, api, log });
  broadcast = server;
  const { metrics } = context;
  metrics.gauge("dockernet_flow_clients", "Socket.IO clients connected to flow serve.", () => server.clients());
  metrics.gauge("dockernet_flow_channel_listeners", "Container sockets flow serve listens on.", () => hub.counts().listeners);
  metrics.gauge("dockernet_flow_channels_connected", "Container sockets with an agent connected.", () => hub.counts().connected);
  log.info("flow started", { listen: `${listen.host}:${listen.port}`, socket_dir: config.socket_dir, containers: adopted });
  return {
    async stop() {
      unsubscribe();
      api.close();
      await server.close();
      await hub.closeAll();
    },
    health: () => (server.listening() ? undefined : `the API listener on ${listen.host}:${listen.port} is closed`),
  };
}
