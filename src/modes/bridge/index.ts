import { errorMessage } from "../../core/errors.ts";
import { shutdownSignal } from "../../core/lifecycle.ts";
import { DockerClient } from "../../docker/client.ts";
import { checkSocketDir } from "../../net/private-socket.ts";
import type { DockerEvent } from "../../docker/types.ts";
import type { DaemonContext, RunningMode } from "../types.ts";
import { socketPath, type BridgeConfig } from "./config.ts";
import { engineDialer } from "./link/engine-dial.ts";
import { checkEngine } from "./link/probe.ts";
import { sshConnector } from "./link/ssh-connect.ts";
import { SpareChannel } from "./link/spare-channel.ts";
import { LinkSupervisor } from "./link/supervisor.ts";
import { ActivityClock } from "./local/activity.ts";
import { startControl } from "./local/control.ts";
import { clearStaleSocket, takeLock } from "./local/lock.ts";
import { PortSync } from "./local/port-sync.ts";
import { PortForwards } from "./local/ports.ts";
import { startRelay } from "./local/relay.ts";
import { BridgeWarnings } from "./local/warnings.ts";
import { startIdleWatch } from "./server/idle.ts";
import { ServerLifecycle } from "./server/lifecycle.ts";
import { RunningWork } from "./server/running-work.ts";
import { makeProvider } from "./server/providers/registry.ts";
import { readStatus } from "./status.ts";

/** The internal socket beside the main one: the bridge's own Docker client, not counted as activity. */
const internalPath = (socket: string) => `${socket}.int`;

/**
 * `dockernet bridge start`: the local socket, one SSH link to the server (created first with a
 * provider that does), the published ports of the remote engine forwarded to localhost, the
 * control socket for `status` and `stop`, and idle destroy with a provider that creates servers.
 * Its parts are made in order on one stack: stopping (or failing half way) undoes them in reverse.
 */
export async function startBridge(context: DaemonContext<BridgeConfig>): Promise<RunningMode> {
  const provider = await makeProvider(context.config);
  const stack = new AsyncDisposableStack();
  // SIGINT/SIGTERM while starting stop a create in progress; the failed start then deletes its server.
  const starting = shutdownSignal();
  const servers = new ServerLifecycle(provider, context.log, { keepOnFailure: context.config.keep_on_failure, signal: starting.signal });
  try {
    const running = await assemble(context, stack, servers);
    servers.confirmed();
    return running;
  } catch (error) {
    await stack.disposeAsync();
    await servers.failedStart(error);
    throw error;
  } finally {
    starting.dispose();
  }
}

async function assemble(context: DaemonContext<BridgeConfig>, stack: AsyncDisposableStack, servers: ServerLifecycle): Promise<RunningMode> {
  const { config, log } = context;
  // A part that fails to stop is reported; the parts made before it still stop.
  const undo = (stop: () => unknown) =>
    stack.defer(async () => {
      try {
        await stop();
      } catch (error) {
        log.warn("cleanup failed", { error: errorMessage(error) });
      }
    });
  const socket = socketPath(config);
  undo(await takeLock(socket, log));
  // Refused before any server is made: the sockets will be there.
  await checkSocketDir(socket, "the bridge socket");
  await clearStaleSocket(socket);
  await clearStaleSocket(internalPath(socket));

  const activity = new ActivityClock({ connectionTimeoutMs: config.connection_timeout });
  const supervisor = new LinkSupervisor({ connect: await sshConnector(config, { servers, activity, log }), log, connectTimeoutMs: config.connect_timeout, createTimeoutMs: config.create_timeout });
  await supervisor.start();
  undo(() => supervisor.stop());
  // Stream-local or dial-stdio: decided per link, never by one connection's failure.
  const toEngine = engineDialer({ remoteSocket: config.remote_socket, log });
  await checkEngine(await supervisor.acquire(), toEngine, config.remote_socket);

  // What the user must see lands in `bridge status` as well as in the log.
  const warnings = new BridgeWarnings();
  // Each client takes a channel opened ahead of it (stream-local), so it does not wait a round trip.
  const spare = new SpareChannel(toEngine);
  undo(() => spare.close());
  const relay = await startRelay({ path: socket, open: async (signal) => spare.take(await supervisor.acquire(signal)), activity, log, warnings });
  undo(() => relay.close());
  // The bridge's own Docker connections (ports, events) do not count as use, and never wake a
  // parked link: they wait for it, so the events stream is open again as soon as the link is.
  const internal = await startRelay({ path: internalPath(socket), open: async (signal) => toEngine(await supervisor.whenUp(signal)), activity: new ActivityClock({ connectionTimeoutMs: 0 }), log });
  undo(() => internal.close());
  const remote = new DockerClient(`unix://${internalPath(socket)}`);

  const forwards = new PortForwards({ log, conflict: config.port_conflict, activity, warnings, dial: async (host, port, signal) => (await supervisor.acquire(signal)).forwardTcp(host, port) });
  undo(() => forwards.closeAll({ final: true }));
  const ports = new PortSync({ list: () => remote.listHostPorts(), forwards });
  undo(() => ports.stop());
  // Containers running on the server count as use (idle destroy), known from the same events.
  const work = new RunningWork({ countsRunning: config.idle_counts_running, list: () => remote.listContainers(), activity, log });
  const rescan = async () => {
    ports.rescan();
    await work.resync();
  };
  undo(supervisor.onUp(() => void rescan()));
  // The remote engine's events, on the shared bus opened on the remote client: no polling.
  const onEvent = async (event: DockerEvent) => {
    ports.rescan();
    work.event(event);
  };
  undo(await context.watch({ name: "bridge", interest: { types: ["container"], actions: ["start", "die", "stop", "destroy"] }, onEvent, onResync: rescan }, remote));
  await rescan();

  // Idle time counts from here: starting (a server created, the engine probed) was not idle.
  activity.touch();
  const idle = servers.provider.createsServers
    ? startIdleWatch({ activity, idleTimeoutMs: config.idle_timeout, gracePeriodMs: config.grace_period, log, onIdle: async () => {
        supervisor.park();
        // The destroy is asked for at once: an ensure from here on waits for it and creates anew.
        await Promise.all([servers.destroy(), forwards.closeAll({ reason: "server destroyed (idle)" })]);
        work.clear();
      } })
    : undefined;
  if (idle) undo(() => idle.stop());

  const status = () => readStatus(config, { socket, servers, supervisor, docker: ports.docker, forwards, relay, activity, warnings, work, idleWatch: idle !== undefined });
  const control = await startControl(socket, { status, stop: () => context.shutdown() });
  undo(() => control.close());
  const server = servers.current;
  log.info("bridge started", { socket, server: server ? `${server.user}@${server.host}:${server.port}` : undefined, hint: `export DOCKER_HOST=unix://${socket}` });
  return { stop: () => stack.disposeAsync(), health: () => supervisor.health() };
}
