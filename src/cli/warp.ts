import { defineCommand, type ArgsDef } from "citty";
import { usageError } from "../core/errors.ts";
import { shutdownSignal } from "../core/lifecycle.ts";
import { createLogger } from "../core/logger.ts";
import { runDaemon, type ModeContext } from "../docker/daemon.ts";
import type { EventBus } from "../docker/event-bus.ts";
import { formatStatusTable, runWarpOnce, startWarp, warpDryRun, warpStatus } from "../modes/warp/index.ts";
import { daemonArgs, globalArgs, reconcileArgs, rejectUnknownFlags } from "./_args.ts";
import { connectDocker, loadCommandConfig } from "./_context.ts";

/** The flags of the warp mode, shared with `dockernet run`. */
export const warpArgs = {
  "container-pattern": { type: "string", description: "Glob naming warp containers (default: warp-*)", valueHint: "GLOB" },
  routes: { type: "string", description: "Comma-separated rules cidr[:proto[:lo-hi]] (default: 0.0.0.0/0)", valueHint: "RULES" },
} as const satisfies ArgsDef;

const args = {
  action: { type: "positional", required: false, description: "status: show what is routed where (read from the real route tables)", valueHint: "status" },
  ...globalArgs,
  ...reconcileArgs,
  ...daemonArgs,
  json: { type: "boolean", description: "With status: print a JSON array, one object per target" },
  ...warpArgs,
} as const;

export default defineCommand({
  meta: {
    name: "warp",
    description: [
      "Route target containers through the warp (gateway) container named in their network.warp.target label,",
      "and keep them routed as gateways restart, change address or stop.",
      "",
      "Examples:",
      "  docker run -d --name warp-1 --network vpn my/wireguard-gateway",
      "  docker run -d --network vpn --label network.warp.target=warp-1 alpine sleep infinity",
      "  dockernet warp                      # daemon: reconcile, then follow Docker events",
      "  dockernet warp --once               # one reconcile for cron or a systemd timer (exit 1 on any failure)",
      "  dockernet warp --once --dry-run     # print what would change, change nothing",
      "  dockernet warp status               # what is routed where",
      "  dockernet warp status --json",
      "  dockernet warp --metrics-listen 127.0.0.1:9477   # daemon with /healthz and /metrics",
    ].join("\n"),
  },
  args,
  async run({ args: flags, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    if (flags.action !== undefined && flags.action !== "status") {
      throw usageError(`unknown warp action ${JSON.stringify(flags.action)}`, "the only action is `status`; see dockernet warp --help");
    }
    const resolved = await loadCommandConfig(flags, { warp: { container_pattern: flags["container-pattern"], routes: flags.routes } });
    const client = await connectDocker(resolved);
    const options = { client, config: resolved.config.warp, log: createLogger("warp") };

    if (flags.action === "status") {
      const rows = await warpStatus(options);
      process.stdout.write(`${flags.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows)}\n`);
      return;
    }
    if (flags["dry-run"]) {
      const result = await warpDryRun(options);
      process.stdout.write(`${result.text}\n`);
      process.exitCode = result.exitCode;
      return;
    }
    if (flags.once) {
      const result = await runWarpOnce(options);
      for (const failure of result.failures) options.log.error("not as planned", { error: failure });
      options.log.info("reconciled once", { targets: result.targets, failed: result.failures.length });
      process.exitCode = result.exitCode;
      return;
    }
    const shutdown = shutdownSignal();
    try {
      const warp = { name: "warp", start: (bus: EventBus, { telemetry }: ModeContext) => startWarp({ ...options, bus, telemetry }) };
      await runDaemon(client, [warp], shutdown.signal, { metricsListen: resolved.config.metrics.listen });
    } finally {
      shutdown.dispose();
    }
  },
});
