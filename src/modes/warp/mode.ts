import { defineMode } from "../types.ts";
import { warpSection } from "./config.ts";

/** warp, described once: the registry, `run`, `service`, `config` and `--help` read this. */
export const warpMode = defineMode({
  name: "warp",
  kind: "reconciler",
  summary: "route target containers through their warp container",
  details: [
    "Route target containers through the warp (gateway) container named in their network.warp.target label,",
    "and keep them routed as gateways restart, change address or stop.",
  ],
  examples: [
    "docker run -d --name warp-1 --network vpn my/wireguard-gateway",
    "docker run -d --network vpn --label network.warp.target=warp-1 alpine sleep infinity",
    "dockernet warp                      # daemon: reconcile, then follow Docker events",
    "dockernet warp --once               # one reconcile for cron or a systemd timer (exit 1 on any failure)",
    "dockernet warp --once --dry-run     # print what would change, change nothing",
    "dockernet warp status               # what is routed where",
    "dockernet warp status --json",
    "dockernet warp --metrics-listen 127.0.0.1:9477   # daemon with /healthz and /metrics",
    "sudo dockernet warp runtime install  # register the OCI runtime: targets under it are routed before their first instruction",
    "docker run --runtime dockernet --network vpn --label network.warp.target=warp-1 alpine wget example.com",
  ],
  config: warpSection,
  flags: {
    "container-pattern": { key: "container_pattern", type: "string", description: "Glob naming warp containers (default: warp-*)", valueHint: "GLOB", for: ["status"] },
    routes: { key: "routes", type: "string", description: "Comma-separated rules cidr[:proto[:lo-hi]] (default: 0.0.0.0/0)", valueHint: "RULES", for: ["status"] },
  },
  // warp runs `nsenter -t PID -n ip -batch -` per target, and needs all three (measured with
  // setpriv against a real engine; test/e2e/service.test.ts repeats it):
  // - CAP_SYS_PTRACE: nsenter opens /proc/PID/ns/net, which is a ptrace access check. Without the
  //   capability it passes only if our permitted set holds all of the target's, and a container's
  //   default set (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_SETUID...) is not inside ours: "cannot open
  //   /proc/PID/ns/net: Permission denied", for containers running as root just as for others.
  // - CAP_SYS_ADMIN: setns() into the network namespace ("reassociate to namespace 'ns/net' failed").
  // - CAP_NET_ADMIN: the `ip rule` and `ip route` changes ("RTNETLINK answers: Operation not permitted").
  capabilities: {
    names: ["CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"],
    why: "nsenter opens /proc/PID/ns/net (CAP_SYS_PTRACE) and enters it (CAP_SYS_ADMIN); ip changes routes (CAP_NET_ADMIN).",
  },
  actions: {
    runtime: {
      summary: "install or uninstall dockernet as Docker's OCI runtime `dockernet` (routes a target before its first instruction)",
      details: [
        "install adds the runtime to daemon.json (every other key kept, written atomically, the old file kept as .dockernet-backup);",
        "uninstall takes it out again. dockerd reads it on SIGHUP (systemctl reload docker). Under the runtime, every",
        "runc call goes to the real runc (warp.runc) untouched; the start of a target first puts its routes in place, and",
        "fails when it cannot (a bad label, routes that cannot be applied): such a container does not start.",
      ],
      examples: [
        "sudo dockernet warp runtime install --dry-run     # print the change to /etc/docker/daemon.json",
        "sudo dockernet warp runtime install && sudo systemctl reload docker",
        "sudo dockernet warp runtime install --default     # every new container starts under it",
        "sudo dockernet warp runtime uninstall",
      ],
      docker: false,
      recordsDockerHost: true,
      args: {
        operation: { type: "positional", description: "install | uninstall", valueHint: "install|uninstall", required: true },
        default: { type: "boolean", description: "Also make it Docker's default-runtime (every new container)" },
        "daemon-json": { type: "string", description: "Docker's daemon config (default: /etc/docker/daemon.json)", valueHint: "PATH" },
        "dry-run": { type: "boolean", description: "Print the change, write nothing" },
      },
      run: async (context) => (await import("./runtime/install.ts")).runtimeCommand(context),
    },
  },
  daemon: async (context) => (await import("./index.ts")).startWarp(context),
  once: async (context) => (await import("./index.ts")).runWarpOnce(context),
  dryRun: async (context) => (await import("./index.ts")).warpDryRun(context),
  status: {
    help: "show what is routed where (read from the real route tables)",
    json: "With status: print a JSON array, one object per target",
    show: async (context, { json }) => (await import("./index.ts")).showWarpStatus(context, { json }),
  },
});
