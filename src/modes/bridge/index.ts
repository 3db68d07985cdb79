import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { DockernetError, errorMessage, ExitCode } from "../../core/errors.ts";
import { textTable } from "../../core/text-table.ts";
import { DockerClient } from "../../docker/client.ts";
import type { DockerEvent } from "../../docker/types.ts";
import { SshLink, type SshTarget } from "../../ssh/connection.ts";
import { defaultKnownHostsFiles, recordHostKey } from "../../ssh/known-hosts.ts";
import type { DaemonContext, RunningMode } from "../types.ts";
import { ActivityClock } from "./activity.ts";
import { dockernetHome, socketPath, type BridgeConfig } from "./config.ts";
import { startControl, type BridgeStatus } from "./control.ts";
import { ServerKeeper, startIdleWatch } from "./idle.ts";
import { engineDialer } from "./_engine-dial.ts";
import { LinkSupervisor, type ConnectSteps } from "./link.ts";
import { clearStaleSocket, takeLock } from "./lock.ts";
import { PortForwards } from "./ports.ts";
import { probeEngine, probeFailure } from "./_probe.ts";
import { makeProvider } from "./providers/index.ts";
import { startRelay } from "./relay.ts";

/** The key: `--identity`, else the agent, else ~/.ssh/id_ed25519, else ~/.ssh/id_rsa. */
async function credentials(config: BridgeConfig): Promise<Pick<SshTarget, "privateKey" | "agent">> {
  const read = (path: string) => readFile(path).catch(() => undefined);
  if (config.identity !== "") {
    const key = await read(config.identity);
    if (key === undefined) throw new DockernetError(`cannot read the identity file ${config.identity}`, { code: "USAGE", exitCode: ExitCode.usage });
    return { privateKey: key };
  }
  const fromFiles = async () => {
    for (const name of ["id_ed25519", "id_rsa"]) {
      const key = await read(join(homedir(), ".ssh", name));
      if (key !== undefined) return { privateKey: key };
    }
    return undefined;
  };
  // A server the provider creates trusts the key file's public half (what it uploads), which the
  // agent may not hold: try that key first there. An existing host: the agent first, as ssh does.
  if (config.provider !== "ssh") {
    const file = await fromFiles();
    if (file) return file;
  }
  if (process.env.SSH_AUTH_SOCK) return { agent: process.env.SSH_AUTH_SOCK };
  const file = await fromFiles();
  if (file) return file;
  throw new DockernetError("no SSH key: no --identity, no SSH agent (SSH_AUTH_SOCK), no ~/.ssh/id_ed25519 or id_rsa", { code: "USAGE", exitCode: ExitCode.usage });
}

/** The internal socket beside the main one: the bridge's own Docker client, not counted as activity. */
const internalPath = (socket: string) => `${socket}.int`;

/** How long a Docker connection waits while a server is created (the provider waits up to 10 min for SSH). */
const CREATE_TIMEOUT_MS = 15 * 60_000;

/**
 * `dockernet bridge start`: the local socket, one SSH link to the server (created first with a
 * provider that does), the published ports of the remote engine forwarded to localhost, the
 * control socket for `status` and `stop`, and idle destroy with a provider that creates servers.
 */
export async function startBridge(context: DaemonContext<BridgeConfig>): Promise<RunningMode> {
  const { config, log } = context;
  const socket = socketPath(config);
  const release = await takeLock(socket, log);
  const cleanups: (() => Promise<void> | void)[] = [release];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((error) => log.warn("cleanup failed", { error: errorMessage(error) }));
  };
  try {
    return await serve(context, socket, cleanups, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function serve(context: DaemonContext<BridgeConfig>, socket: string, cleanups: (() => Promise<void> | void)[], stop: () => Promise<void>): Promise<RunningMode> {
  const { config, log } = context;
  await clearStaleSocket(socket);
  await clearStaleSocket(internalPath(socket));
  const provider = makeProvider(config);
  const keys = await credentials(config);
  const ownKnownHosts = config.known_hosts === "" ? join(dockernetHome(), "known_hosts") : config.known_hosts;
  const activity = new ActivityClock({ connectionTimeoutMs: config.connection_timeout });
  const servers = new ServerKeeper(provider, log);
  const connect = async (steps: ConnectSteps) => {
    // Creating a server takes minutes: the Docker clients waiting meanwhile wait for it, and
    // that time is not idle time.
    const creating = provider.createsServers && servers.missing;
    const server = creating ? await steps.creating(() => servers.ensure()) : await servers.ensure();
    if (creating) activity.touch();
    if (server.hostKey) await recordHostKey(ownKnownHosts, server.host, server.port, Buffer.from(server.hostKey.key, "base64"), server.hostKey.type);
    return await SshLink.connect({ host: server.host, port: server.port, username: server.user, ...keys, knownHostsFiles: [...defaultKnownHostsFiles(), ownKnownHosts], ownKnownHosts, acceptNewHostKey: config.accept_new_host_key }, log);
  };

  let rescan = () => {};
  const supervisor = new LinkSupervisor({ connect, log, connectTimeoutMs: config.connect_timeout, createTimeoutMs: CREATE_TIMEOUT_MS, onUp: () => rescan() });
  await supervisor.start();
  cleanups.push(() => supervisor.stop());

  // Stream-local or dial-stdio: decided per link, never by one connection's failure.
  const toEngine = engineDialer({ remoteSocket: config.remote_socket, log });
  // Checked once before serving: a wrong --remote-socket is one clear error now, not a failure per Docker command.
  const first = await supervisor.acquire();
  const engineAt = `${config.remote_socket} on ${first.where}`;
  await probeEngine(await toEngine(first), engineAt).catch((error: unknown) => {
    throw probeFailure(error, engineAt);
  });
  const relay = await startRelay({ path: socket, open: async (signal) => toEngine(await supervisor.acquire(signal)), activity, log });
  cleanups.push(() => relay.close());
  // The bridge's own Docker connections (ports, events) do not count as use, and never wake a
  // parked link: they wait for it, so the events stream is open again as soon as the link is.
  const internal = await startRelay({
    path: internalPath(socket),
    open: async (signal) => await toEngine(await supervisor.whenUp(signal)),
    activity: new ActivityClock({ connectionTimeoutMs: 0 }),
    log,
  });
  cleanups.push(() => internal.close());
  const remote = new DockerClient(`unix://${internalPath(socket)}`);

  const forwards = new PortForwards({ log, conflict: config.port_conflict, activity, dial: async (host, port, signal) => (await supervisor.acquire(signal)).forwardTcp(host, port) });
  cleanups.push(() => forwards.closeAll({ final: true }));
  const docker = { reachable: false, last_check: null as string | null, last_error: null as string | null };
  const scan = async () => {
    try {
      const ports = await remote.listHostPorts();
      Object.assign(docker, { reachable: true, last_check: new Date().toISOString(), last_error: null });
      await forwards.sync(ports);
    } catch (error) {
      Object.assign(docker, { reachable: false, last_check: new Date().toISOString(), last_error: errorMessage(error) });
    }
  };
  // One scan at a time, and the scans asked for meanwhile run as one after it (a burst of events
  // is one more list call, not one each): the last one sees every change.
  let scanning: Promise<void> | undefined;
  let again = false;
  rescan = () => {
    if (scanning) {
      again = true;
      return;
    }
    scanning = (async () => {
      do {
        again = false;
        await scan();
      } while (again);
    })().finally(() => (scanning = undefined));
  };
  rescan();

  // Level-triggered: any start, stop or removal is one scan of the running containers' ports.
  const onEvent = (_event: DockerEvent) => rescan();
  // The remote engine's events, on the shared bus opened on the remote client: no polling.
  const unsubscribe = await context.watch({ name: "bridge", interest: { types: ["container"], actions: ["start", "die", "stop", "destroy"] }, onEvent, onResync: async () => rescan() }, remote);
  cleanups.push(unsubscribe);

  // Idle time counts from here: starting (a server created, the engine probed) was not idle.
  activity.touch();
  const idle = provider.createsServers
    ? startIdleWatch({ activity, idleTimeoutMs: config.idle_timeout, gracePeriodMs: config.grace_period, log, onIdle: async () => {
        supervisor.park();
        // The destroy is asked for at once: an ensure from here on waits for it and creates anew.
        await Promise.all([servers.destroy(), forwards.closeAll({ reason: "server destroyed (idle)" })]);
      } })
    : undefined;
  if (idle) cleanups.push(() => idle.stop());

  // The server as it is now: none after an idle destroy, the new one once it is created again.
  const serverStatus = (): BridgeStatus["server"] => {
    const server = servers.current;
    return server ? { name: server.name, address: `${server.host}:${server.port}`, created_by_bridge: server.createdByBridge, ...(server.hourlyPrice ? { hourly_price: server.hourlyPrice } : {}) } : null;
  };
  const status = (): BridgeStatus => ({
    pid: process.pid,
    socket,
    provider: provider.name,
    server: serverStatus(),
    ssh: supervisor.status(),
    docker,
    forwards: forwards.list(),
    activity: {
      connections: activity.connections,
      bytes: relay.bytes(),
      idle_s: Math.round(activity.idleMs() / 1000),
      idle_time_left_s: idle ? Math.max(0, Math.round((config.idle_timeout - activity.idleMs()) / 1000)) : null,
    },
  });
  const control = await startControl(socket, { status, stop: () => context.shutdown() });
  cleanups.push(() => control.close());
  const server = servers.current;
  log.info("bridge started", { socket, server: server ? `${server.user}@${server.host}:${server.port}` : undefined, hint: `export DOCKER_HOST=unix://${socket}` });
  return {
    stop,
    health: () => (supervisor.link === undefined && !supervisor.parked ? `the SSH link is down${supervisor.status().last_error ? ` (${supervisor.status().last_error})` : ""}` : undefined),
  };
}

export { fetchStatus, requestStop, waitForExit } from "./control.ts";

/** `bridge status` as text: the link, the engine, activity, then a row per forward. */
export function formatStatus(status: BridgeStatus): string {
  const { ssh, docker, activity } = status;
  const lines = [
    `bridge ${status.socket} (PID ${status.pid}), provider ${status.provider}`,
    `server:   ${status.server ? `${status.server.name} at ${status.server.address}${status.server.hourly_price ? `, ${status.server.hourly_price}` : ""}` : "none (created on the next Docker connection)"}`,
    `ssh:      ${ssh.connected ? `connected since ${ssh.since}` : "down"}, ${ssh.reconnects} reconnects${ssh.last_error ? `; last error: ${ssh.last_error}` : ""}`,
    `docker:   ${docker.reachable ? "reachable" : "not reachable"}${docker.last_check ? `, last check ${docker.last_check}` : ""}${docker.last_error ? `; last error: ${docker.last_error}` : ""}`,
    `activity: ${activity.connections} connections, ${activity.bytes} bytes relayed, idle ${activity.idle_s} s${activity.idle_time_left_s === null ? "" : `, ${activity.idle_time_left_s} s left before the server is destroyed`}`,
    "",
  ];
  if (status.forwards.length === 0) return [...lines, "no forwarded ports"].join("\n");
  const rows = status.forwards.map((forward) => [forward.container, String(forward.requested), String(forward.actual), forward.remote, String(forward.bytes), String(forward.connections)]);
  return [...lines, textTable([["CONTAINER", "REQUESTED", "LOCAL", "REMOTE", "BYTES", "CONNECTIONS"], ...rows])].join("\n");
}
