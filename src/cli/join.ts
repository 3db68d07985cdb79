import { defineCommand, type ArgsDef } from "citty";
import { usageError } from "../core/errors.ts";
import { shutdownSignal } from "../core/lifecycle.ts";
import { createLogger } from "../core/logger.ts";
import { runDaemon, type ModeContext } from "../docker/daemon.ts";
import type { EventBus } from "../docker/event-bus.ts";
import { formatStatusTable, joinDryRun, joinStatus, runJoinOnce, startJoin } from "../modes/join/index.ts";
import { daemonArgs, globalArgs, reconcileArgs, rejectUnknownFlags } from "./_args.ts";
import { connectDocker, loadCommandConfig } from "./_context.ts";

/** The flags of the join mode, shared with `dockernet run`. */
export const joinArgs = {
  "container-name": { type: "string", description: "The proxy container, by exact name (default: http-proxy)", valueHint: "NAME" },
  "keep-going": { type: "boolean", description: "Log a network change that still fails after retries and carry on, instead of exiting 1" },
} as const satisfies ArgsDef;

const args = {
  action: { type: "positional", required: false, description: "status: show every network, its routable containers, and whether the proxy is on it", valueHint: "status" },
  ...globalArgs,
  ...reconcileArgs,
  ...daemonArgs,
  json: { type: "boolean", description: "With status: print a JSON array, one object per network" },
  ...joinArgs,
} as const;

export default defineCommand({
  meta: {
    name: "join",
    description: [
      "Keep the HTTP reverse-proxy container attached to exactly the bridge networks that hold a running",
      "routable container (env VIRTUAL_HOST or a traefik.* label, except traefik.enable=false), so every",
      "compose project's network is reachable by the proxy and `docker compose down` still removes it.",
      "",
      "Examples:",
      "  docker run -d --name http-proxy -p 80:80 my/proxy",
      "  docker run -d --network shop --env VIRTUAL_HOST=shop.example.com my/shop",
      "  dockernet join                                  # daemon: reconcile, then follow Docker events",
      "  dockernet join --once                           # one reconcile for cron or a systemd timer (exit 1 on any failure)",
      "  dockernet join --once --dry-run                 # print the docker network commands it would run, change nothing",
      "  dockernet join --container-name traefik --log-level debug",
      "  dockernet join status                           # a row per network: routable containers, joined or not, why",
      "  dockernet join status --json",
    ].join("\n"),
  },
  args,
  async run({ args: flags, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    if (flags.action !== undefined && flags.action !== "status") {
      throw usageError(`unknown join action ${JSON.stringify(flags.action)}`, "the only action is `status`; see dockernet join --help");
    }
    const resolved = await loadCommandConfig(flags, { join: { container_name: flags["container-name"], keep_going: flags["keep-going"] } });
    const client = await connectDocker(resolved);
    const options = { client, config: resolved.config.join, log: createLogger("join") };

    if (flags.action === "status") {
      const { plan, rows } = await joinStatus(options);
      process.stdout.write(`${flags.json ? JSON.stringify(rows, null, 2) : formatStatusTable(plan, rows)}\n`);
      return;
    }
    if (flags["dry-run"]) {
      const result = await joinDryRun(options);
      process.stdout.write(`${result.text}\n`);
      process.exitCode = result.exitCode;
      return;
    }
    if (flags.once) {
      const result = await runJoinOnce(options);
      for (const failure of result.failures) options.log.error("not as planned", { error: failure });
      const joined = result.plan?.networks.filter((decision) => decision.wanted && decision.counted).map((decision) => decision.network.name);
      options.log.info("reconciled once", { proxy: options.config.container_name, networks: joined, failed: result.failures.length });
      process.exitCode = result.exitCode;
      return;
    }
    const shutdown = shutdownSignal();
    try {
      const join = { name: "join", start: (bus: EventBus, { fail, telemetry }: ModeContext) => startJoin({ ...options, bus, fail, telemetry }) };
      await runDaemon(client, [join], shutdown.signal, { metricsListen: resolved.config.metrics.listen });
    } finally {
      shutdown.dispose();
    }
  },
});
