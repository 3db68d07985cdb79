/// <reference lib="esnext.disposable" />
import { parseListen } from "../../../core/listen.ts";
import type { DaemonContext, RunningMode } from "../../types.ts";
import type { FlowConfig } from "../config.ts";
import { readToken } from "../protocol/token.ts";
import { FlowApi } from "./api.ts";
import { ChannelHub } from "./channel.ts";
import { FlowClients } from "./clients.ts";
import { OwnedContainers } from "./containers.ts";
import { ContainerFollower } from "./follow.ts";
import { startFlowServer } from "./server.ts";
import { containerMessage, isoTime } from "./told.ts";

/**
 * `dockernet flow serve`: its parts made in order on one stack, so a start that fails half-way
 * and a stop both take down what was made, newest first. The manager adopts its containers
 * (their sockets re-created, stale ones swept), follows them on the shared events stream, and
 * only then serves the API and the page.
 */
export async function startFlow(context: DaemonContext<FlowConfig>): Promise<RunningMode> {
  const { config, log, metrics } = context;
  // Paths, roots and the address were checked before the engine was asked (checkFlowStart).
  const listen = parseListen(config.listen, "--listen");
  await using parts = new AsyncDisposableStack();
  const token = await readToken(config.token_file, { create: true, log });
  // Nobody is connected until the server serves them; what is told before goes to no one.
  const clients = new FlowClients({ listen, token, allowedOrigins: config.allowed_origins, log });
  const owned = new OwnedContainers(context);
  const channels = parts.use(new ChannelHub({
    socketDir: config.socket_dir,
    log,
    requestTimeoutMs: config.request_timeout,
    onEvent: (id, command, data) => {
      const container = { id, name: owned.nameOf(id) };
      clients.subscribers(container, "container_message", () => containerMessage(container, command, data, isoTime()));
    },
    // One line per connection, naming the container both ways (the hub knows only its id).
    onConnectionChange: (id, connected) => log.info(connected ? "a container's agent connected" : "a container's agent disconnected", { container: id.slice(0, 12), name: owned.nameOf(id) }),
  }));
  const follower = parts.use(new ContainerFollower(context, { owned, channels, clients }));
  const adopted = await follower.start(context.watch);
  const api = new FlowApi({ ...context, owned, hub: channels, announce: { activity: (entry) => clients.all("activity", entry) } });
  const server = parts.use(await startFlowServer({ listen, clients, api, log }));
  // Disposed before the server: the message activity still pending reaches the clients.
  parts.use(api);
  metrics.gauge("dockernet_flow_clients", "Socket.IO clients connected to flow serve.", () => clients.count());
  metrics.gauge("dockernet_flow_channel_listeners", "Container sockets flow serve listens on.", () => channels.counts().listeners);
  metrics.gauge("dockernet_flow_channels_connected", "Container sockets with an agent connected.", () => channels.counts().connected);
  log.info("flow started", { listen: `${listen.host}:${listen.port}`, socket_dir: config.socket_dir, containers: adopted });
  const running = parts.move();
  return { stop: () => running.disposeAsync(), health: () => server.health() };
}
