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
  ],
  config: warpSection,
  flags: {
    "container-pattern": { key: "container_pattern", type: "string", description: "Glob naming warp containers (default: warp-*)", valueHint: "GLOB" },
    routes: { key: "routes", type: "string", description: "Comma-separated rules cidr[:proto[:lo-hi]] (default: 0.0.0.0/0)", valueHint: "RULES" },
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
  daemon: async (context) => (await import("./index.ts")).startWarp(context),
  once: async (context) => (await import("./index.ts")).runWarpOnce(context),
  dryRun: async (context) => (await import("./index.ts")).warpDryRun(context),
  status: {
    help: "status: show what is routed where (read from the real route tables)",
    json: "With status: print a JSON array, one object per target",
    show: async (context, { json }) => (await import("./index.ts")).showWarpStatus(context, { json }),
  },
});
