import { defineMode } from "../types.ts";
import { joinSection } from "./config.ts";

/** join, described once: the registry, `run`, `service`, `config` and `--help` read this. */
export const joinMode = defineMode({
  name: "join",
  kind: "reconciler",
  summary: "keep the HTTP proxy on the networks of routable containers",
  details: [
    "Keep the HTTP reverse-proxy container attached to exactly the bridge networks that hold a running",
    "routable container (env VIRTUAL_HOST or a traefik.* label, except traefik.enable=false), so every",
    "compose project's network is reachable by the proxy and `docker compose down` still removes it.",
  ],
  examples: [
    "docker run -d --name http-proxy -p 80:80 my/proxy",
    "docker run -d --network shop --env VIRTUAL_HOST=shop.example.com my/shop",
    "dockernet join                                  # daemon: reconcile, then follow Docker events",
    "dockernet join --once                           # one reconcile for cron or a systemd timer (exit 1 on any failure)",
    "dockernet join --once --dry-run                 # print the docker network commands it would run, change nothing",
    "dockernet join --container-name traefik --log-level debug",
    "dockernet join status                           # a row per network: routable containers, joined or not, why",
    "dockernet join status --json",
  ],
  config: joinSection,
  flags: {
    "container-name": { key: "container_name", type: "string", description: "The proxy container, by exact name (default: http-proxy)", valueHint: "NAME" },
    // Read by the reconciling forms (the daemon, --once), not by `status`: no subcommand lists it.
    "keep-going": { key: "keep_going", type: "boolean", description: "Log a network change that still fails after retries and carry on, instead of exiting 1", for: [] },
  },
  // The Docker socket is root:docker 0660 and root owns it, so no capability is involved.
  capabilities: { names: [], why: "only the Docker API; root owns the socket, so it needs no capability." },
  daemon: async (context) => (await import("./index.ts")).startJoin(context),
  once: async (context) => (await import("./index.ts")).runJoinOnce(context),
  dryRun: async (context) => (await import("./index.ts")).joinDryRun(context),
  status: {
    help: "show every network, its routable containers, and whether the proxy is on it",
    json: "With status: print a JSON array, one object per network",
    show: async (context, { json }) => (await import("./index.ts")).showJoinStatus(context, { json }),
  },
});
