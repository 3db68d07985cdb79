import { defineCommand } from "citty";
import { usageError } from "../core/errors.ts";
import { shutdownSignal } from "../core/lifecycle.ts";
import { createLogger } from "../core/logger.ts";
import { runDaemon, type ModeStarter } from "../docker/daemon.ts";
import { startJoin } from "../modes/join/index.ts";
import { startWarp } from "../modes/warp/index.ts";
import { daemonArgs, globalArgs, rejectUnknownFlags } from "./_args.ts";
import { connectDocker, loadCommandConfig } from "./_context.ts";
import { joinArgs } from "./join.ts";
import { warpArgs } from "./warp.ts";

const modeNames = ["warp", "join"] as const;
type ModeName = (typeof modeNames)[number];

const args = {
  modes: { type: "positional", required: true, description: `The modes to run, one or more of: ${modeNames.join(", ")}`, valueHint: "MODE..." },
  ...globalArgs,
  ...daemonArgs,
  ...warpArgs,
  ...joinArgs,
} as const;

/** The mode names given, each known and given once. */
function parseModes(positionals: readonly string[]): ModeName[] {
  const modes: ModeName[] = [];
  for (const name of positionals) {
    if (!(modeNames as readonly string[]).includes(name)) throw usageError(`unknown mode ${JSON.stringify(name)}`, `the modes are ${modeNames.join(", ")}`);
    if (modes.includes(name as ModeName)) throw usageError(`mode ${name} given twice`);
    modes.push(name as ModeName);
  }
  if (modes.length === 0) throw usageError("no mode given", "e.g. dockernet run warp join");
  return modes;
}

export default defineCommand({
  meta: {
    name: "run",
    description: [
      "Run several modes in one process, on one Docker events stream. Each mode logs with its own tag",
      "and reads its own config section; a fatal error of one mode stops them all (exit 1).",
      "",
      "Examples:",
      "  dockernet run warp join                              # both daemons, one events stream",
      "  dockernet run warp join --container-name traefik --routes 10.0.0.0/8",
      "  dockernet run join --keep-going --log-format json",
      "  dockernet run warp join --metrics-listen 127.0.0.1:9477   # one /healthz and /metrics for both",
    ].join("\n"),
  },
  args,
  async run({ args: flags, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const modes = parseModes(flags._.map(String));
    const resolved = await loadCommandConfig(flags, {
      warp: { container_pattern: flags["container-pattern"], routes: flags.routes },
      join: { container_name: flags["container-name"], keep_going: flags["keep-going"] },
    });
    const client = await connectDocker(resolved);
    const starters: Record<ModeName, ModeStarter> = {
      warp: { name: "warp", start: (bus, { telemetry }) => startWarp({ client, config: resolved.config.warp, log: createLogger("warp"), bus, telemetry }) },
      join: { name: "join", start: (bus, { fail, telemetry }) => startJoin({ client, config: resolved.config.join, log: createLogger("join"), bus, fail, telemetry }) },
    };
    const shutdown = shutdownSignal();
    try {
      await runDaemon(client, modes.map((mode) => starters[mode]), shutdown.signal, { metricsListen: resolved.config.metrics.listen });
    } finally {
      shutdown.dispose();
    }
  },
});
