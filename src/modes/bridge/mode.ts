import { DockernetError, ExitCode, usageError } from "../../core/errors.ts";
import { defineMode } from "../types.ts";
import { bridgeSection, socketPath } from "./config.ts";
import { creatingProviders, makeProvider, providerNames, providers } from "./server/providers/registry.ts";

/** `bridge server list|destroy` with a provider that has no servers of its own (the default, ssh). */
function noServers(provider: string, op: string): DockernetError {
  const which = creatingProviders.map((name) => `--provider ${name}`).join(" or ");
  return usageError(`bridge server ${op} needs a provider that creates servers (${which}); the ${provider} provider connects to an existing host and has none`, `e.g. dockernet bridge server ${op} --provider ${creatingProviders[0]}`);
}

/** bridge, described once: the registry, `run`, `service`, `config` and `--help` read this. */
export const bridgeMode = defineMode({
  name: "bridge",
  kind: "service",
  summary: "a local Docker socket for a remote Docker over one SSH connection, published ports on localhost",
  details: [
    "Every docker and docker compose command run against the bridge's socket runs on the server; every port",
    "the server's containers publish answers on 127.0.0.1. With --provider hetzner the server is created on",
    "first use and destroyed when idle (its Docker data kept on a volume).",
  ],
  examples: [
    "dockernet bridge start --host ssh://dev@build-box:22               # the socket ~/.dockernet/bridge.sock",
    "dockernet bridge start --host ssh://dev@build-box --accept-new-host-key --detach",
    "dockernet bridge start --provider hetzner --idle-timeout 10m        # a server created on first use",
    "export DOCKER_HOST=unix://$HOME/.dockernet/bridge.sock",
    "docker run -d -p 8080:80 nginx && curl localhost:8080             # the port forwarded by itself",
    "dockernet bridge status --json",
    "dockernet bridge stop",
    "dockernet bridge server list                                      # servers labelled as dockernet's",
  ],
  config: bridgeSection,
  flags: {
    // `for`: status and stop only find the running bridge by its socket; server only asks the provider
    // (it takes --host to say at once that an existing host has no servers to list).
    host: { key: "host", type: "string", description: "The server: ssh://user@host[:port]", valueHint: "URL", for: ["start", "server"] },
    identity: { key: "identity", type: "string", description: "Private key file (default: the SSH agent, else ~/.ssh/id_ed25519, id_rsa)", valueHint: "FILE", for: ["start"] },
    "remote-socket": { key: "remote_socket", type: "string", description: "The Docker socket on the server (default: /var/run/docker.sock)", valueHint: "PATH", for: ["start"] },
    socket: { key: "socket", type: "string", description: "The local socket (default: ~/.dockernet/bridge.sock)", valueHint: "PATH", for: ["start", "status", "stop"] },
    "accept-new-host-key": { key: "accept_new_host_key", type: "boolean", description: "Record a host key seen for the first time instead of refusing it (a changed key is always refused)", for: ["start"] },
    provider: { key: "provider", type: "string", description: providerNames.map((name) => `${name} (${providers[name].summary})`).join(" or "), valueHint: "NAME", for: ["start", "server"] },
    "keep-on-failure": { key: "keep_on_failure", type: "boolean", description: "With a provider: keep a server a failed start created (for debugging) instead of deleting it", for: ["start"] },
    "idle-timeout": { key: "idle_timeout", type: "string", description: "With a provider: destroy the server after this long without activity (default: 5m)", valueHint: "DURATION", for: ["start"] },
  },
  localDocker: false,
  notAService: "it is a per-user process (its socket is in your home); start it with `dockernet bridge start --detach`",
  capabilities: { names: [], why: "only its own sockets and one SSH connection." },
  detach: {
    logFile: (config) => `${socketPath(config)}.log`,
    // This very process serves: not another bridge already on the socket (the new one then fails).
    ready: async (config, pid) => {
      const { fetchStatus } = await import("./local/control.ts");
      return fetchStatus(socketPath(config)).then((status) => status.pid === pid, () => false);
    },
    // A server created on demand boots and installs Docker before the bridge serves.
    timeoutMs: (config) => (config.provider === "ssh" ? 60_000 : 20 * 60_000),
  },
  daemonAction: "start",
  daemon: async (context) => (await import("./index.ts")).startBridge(context),
  actions: {
    status: {
      summary: "show the running bridge: SSH link, Docker, forwards, activity and idle time left",
      examples: ["dockernet bridge status", "dockernet bridge status --socket /run/user/1000/other.sock --json"],
      docker: false,
      args: { json: { type: "boolean", description: "Print the status as JSON" } },
      run: async ({ config, args }) => {
        // Only the control socket's client and the text: no SSH or Docker code for one call on a Unix socket.
        const [{ fetchStatus }, { formatStatus }] = await Promise.all([import("./local/control.ts"), import("./status-text.ts")]);
        const status = await fetchStatus(socketPath(config));
        process.stdout.write(`${args.json ? JSON.stringify(status, null, 2) : formatStatus(status)}\n`);
        return ExitCode.ok;
      },
    },
    stop: {
      summary: "stop the running bridge (its socket, forwards and SSH link)",
      examples: ["dockernet bridge stop", "dockernet bridge stop --socket ~/.dockernet/other.sock"],
      docker: false,
      args: {},
      run: async ({ config, log }) => {
        const bridge = await import("./local/control.ts");
        const socket = socketPath(config);
        const { pid } = await bridge.fetchStatus(socket);
        await bridge.requestStop(socket);
        log.info("bridge stopping", { socket, pid });
        // Returns once it is gone, so `bridge stop && bridge start` finds the socket free.
        if (!(await bridge.waitForExit(pid, 15_000))) {
          throw new DockernetError(`the bridge (PID ${pid}) is still running 15 s after it was asked to stop`, { code: "BRIDGE_STOP_TIMEOUT", hint: `kill ${pid}` });
        }
        log.info("bridge stopped", { socket, pid });
        return ExitCode.ok;
      },
    },
    server: {
      summary: "list or destroy the provider's servers labelled as dockernet's (orphans too)",
      examples: ["dockernet bridge server list --provider hetzner", "dockernet bridge server destroy dockernet-bridge --provider hetzner"],
      docker: false,
      args: {
        op: { type: "positional", required: true, description: "list or destroy", valueHint: "list|destroy" },
        name: { type: "positional", required: false, description: "With destroy: the server's name", valueHint: "NAME" },
      },
      run: async ({ config, log, args }) => {
        if (args.op !== "list" && (args.op !== "destroy" || typeof args.name !== "string")) {
          throw usageError(`bridge server ${String(args.op)}: expected \`list\` or \`destroy NAME\``);
        }
        // Said before the provider is made: the default one (ssh) would first ask for --host, which is no help here.
        if (!providers[config.provider].createsServers) throw noServers(config.provider, String(args.op));
        const provider = await makeProvider(config);
        if (args.op === "list") {
          process.stdout.write(`${JSON.stringify(await provider.list(), null, 2)}\n`);
          return ExitCode.ok;
        }
        await provider.destroyNamed(String(args.name), log);
        return ExitCode.ok;
      },
    },
  },
});
