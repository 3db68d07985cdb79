import { usageError } from "../../core/errors.ts";
import { shutdownSignal } from "../../core/lifecycle.ts";
import { omitTimestamps } from "../../core/logger.ts";
import { defineMode } from "../types.ts";
import { flowSection } from "./config.ts";

/** flow, described once: the registry, `run`, `service`, `config` and `--help` read this. */
export const flowMode = defineMode({
  name: "flow",
  kind: "service",
  summary: "a Socket.IO control plane for containers, each talking to the manager over its own Unix socket",
  details: [
    "`flow serve` creates and drives flow containers for its clients (Socket.IO v4, a token, loopback by default)",
    "and serves a page at /. Each container it creates gets its own socket directory mounted, with",
    "DOCKERNET_FLOW_SOCKET naming the socket; `flow agent` is the reference agent to run inside.",
  ],
  examples: [
    "dockernet flow serve                                   # 127.0.0.1:7780, token in /etc/dockernet/flow.token",
    "dockernet flow serve --listen 127.0.0.1:7780 --volume-root /srv/flow --code-root /srv/code",
    "dockernet flow call list_containers",
    "dockernet flow call create_container --file spec.json",
    `dockernet flow call send_message '{"container_id":"web-1","message":{"command":"dump","data":{}}}'`,
    "dockernet flow watch --container web-1                 # one JSON line per event",
    "dockernet flow agent -- python3 /app/main.py           # inside a container",
  ],
  config: flowSection,
  // Set in every flow container (the agent reads it); not a key of [flow].
  otherVariables: ["DOCKERNET_FLOW_SOCKET"],
  flags: {
    listen: { key: "listen", type: "string", description: "HOST:PORT the API and the page listen on; call and watch connect there unless --url (default: 127.0.0.1:7780)", valueHint: "ADDR", for: ["serve", "call", "watch"] },
    url: { key: "url", type: "string", description: "The server call and watch connect to (default: http:// the --listen address)", valueHint: "URL", for: ["call", "watch"] },
    "socket-dir": { key: "socket_dir", type: "string", description: "Directory of the containers' sockets (default: /run/dockernet/flow)", valueHint: "DIR", for: ["serve"] },
    "token-file": { key: "token_file", type: "string", description: "The API token: serve creates it at first start, call and watch read it (default: /etc/dockernet/flow.token)", valueHint: "FILE", for: ["serve", "call", "watch"] },
    "volume-root": { key: "volume_roots", type: "string", description: "A host directory volumes may come from; repeat the flag or separate with commas (default: none: volumes refused)", valueHint: "DIR", for: ["serve"] },
    "code-root": { key: "code_roots", type: "string", description: "A host directory update_container may read; repeat the flag or separate with commas (default: none)", valueHint: "DIR", for: ["serve"] },
  },
  capabilities: { names: [], why: "only the Docker API and its own sockets and listener; root owns the socket, so it needs no capability." },
  // The defaults of flow.socket_dir and flow.token_file; a unit for other paths needs them added.
  writes: { paths: ["/run/dockernet", "/etc/dockernet"], why: "the containers' sockets under /run/dockernet/flow, the token created in /etc/dockernet." },
  daemonAction: "serve",
  check: async (config) => (await import("./manager/startup-checks.ts")).checkFlowStart(config),
  daemon: async (context) => (await import("./manager/index.ts")).startFlow(context),
  actions: {
    call: {
      summary: "send one request to a running flow serve and print the JSON reply",
      details: ["Exit code 0 when the reply is {ok: true}, 1 on an error reply (printed as JSON), 2 on a usage error."],
      examples: [
        "dockernet flow call list_containers",
        `dockernet flow call start_container '{"container_id":"web-1"}'`,
        "dockernet flow call create_container --file spec.json",
        "echo '{\"container_id\":\"web-1\"}' | dockernet flow call get_status --file -",
        `dockernet flow call logs '{"container_id":"web-1","follow":true}'   # then one JSON line per log line, until Ctrl-C`,
      ],
      docker: false,
      relaysStreams: true,
      args: {
        request: { type: "positional", required: true, description: "The request: list_containers, create_container, send_message, ...", valueHint: "REQUEST" },
        payload: { type: "positional", required: false, description: "The payload as JSON (default: {})", valueHint: "JSON" },
        file: { type: "string", description: "Read the payload from this file (- for stdin)", valueHint: "FILE" },
        timeout: { type: "string", description: "Seconds to wait for the reply (default: 60)", valueHint: "SECONDS" },
      },
      run: async ({ config, log, args }) => {
        const flow = await import("./client.ts");
        const timeout = args.timeout === undefined ? 60 : Number(args.timeout);
        if (!Number.isFinite(timeout) || timeout <= 0) throw usageError(`--timeout ${JSON.stringify(args.timeout)} is not a number of seconds`);
        const payload = await flow.readPayload(args.payload as string | undefined, args.file as string | undefined);
        const shutdown = shutdownSignal();
        try {
          return await flow.runCall({ config, log, request: String(args.request), payload, timeoutMs: timeout * 1000, signal: shutdown.signal });
        } finally {
          shutdown.dispose();
        }
      },
    },
    watch: {
      summary: "print the server's activity and container events, one JSON line each",
      examples: ["dockernet flow watch", "dockernet flow watch --container web-1   # also that container's own messages"],
      docker: false,
      relaysStreams: true,
      args: { container: { type: "string", description: "Also receive this container's own messages (subscribe)", valueHint: "ID" } },
      run: async ({ config, log, args }) => {
        const shutdown = shutdownSignal();
        try {
          const container = args.container as string | undefined;
          return await (await import("./watch.ts")).runWatch({ config, log, signal: shutdown.signal, ...(container ? { container } : {}) });
        } finally {
          shutdown.dispose();
        }
      },
    },
    agent: {
      summary: "inside a flow container: connect to the manager, answer ping and dump, relay the rest to CMD",
      details: ["The socket is $DOCKERNET_FLOW_SOCKET (or --socket). With -- CMD ARGS, requests go to CMD's stdin as JSON lines and CMD's stdout lines come back."],
      examples: ["dockernet flow agent", "dockernet flow agent -- python3 /app/main.py"],
      docker: false,
      relaysStreams: true,
      args: { socket: { type: "string", description: "The manager's socket (default: $DOCKERNET_FLOW_SOCKET)", valueHint: "PATH" } },
      run: async ({ log, args, rest }) => {
        const socketPath = (args.socket as string | undefined) ?? process.env.DOCKERNET_FLOW_SOCKET;
        if (!socketPath) throw usageError("no socket: DOCKERNET_FLOW_SOCKET is not set", "run the agent in a container flow serve created, or give --socket PATH");
        // Docker stamps each line of the container's log (flow's `logs` passes the stamps on).
        if (process.env.DOCKERNET_FLOW_SOCKET !== undefined) omitTimestamps();
        const shutdown = shutdownSignal();
        try {
          const { runAgent } = await import("./agent/agent.ts");
          return await runAgent({ socketPath, ...(rest.length > 0 ? { command: rest } : {}), log, signal: shutdown.signal });
        } finally {
          shutdown.dispose();
        }
      },
    },
  },
});
