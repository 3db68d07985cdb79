import { defineCommand, type ArgsDef } from "citty";
import { usageError } from "../core/errors.ts";
import { findMode, modeNames, modes } from "../modes/registry.ts";
import type { AnyMode } from "../modes/types.ts";
import { daemonArgs, globalArgs, modeArgs, modeFlagValues, rejectUnknownFlags } from "./_args.ts";
import { loadCommandConfig } from "./_context.ts";
import { withHelp } from "./_help.ts";
import { serveModes } from "./_serve.ts";

/**
 * Every mode's daemon flags in one set (a service's are those of its daemon action: `run flow`
 * reads `--listen`, not `flow call`'s `--url`); two modes may not name the same flag (the registry
 * test checks).
 */
function allModeArgs(): ArgsDef {
  const all: ArgsDef = {};
  for (const mode of modes) {
    for (const [flag, def] of Object.entries(modeArgs(mode, mode.kind === "service" ? mode.daemonAction : undefined))) {
      if (Object.hasOwn(all, flag)) throw new Error(`modes ${mode.name} and another both define --${flag}`);
      all[flag] = def;
    }
  }
  return all;
}

const args = {
  modes: { type: "positional", required: true, description: `The modes to run, one or more of: ${modeNames.join(", ")}`, valueHint: "MODE..." },
  ...globalArgs,
  ...daemonArgs,
  ...allModeArgs(),
} as const satisfies ArgsDef;

/** The modes named, each known and given once. */
function parseModes(positionals: readonly string[]): AnyMode[] {
  const chosen: AnyMode[] = [];
  for (const name of positionals) {
    const mode = findMode(name);
    if (mode === undefined) throw usageError(`unknown mode ${JSON.stringify(name)}`, `the modes are ${modeNames.join(", ")}`);
    if (chosen.includes(mode)) throw usageError(`mode ${name} given twice`);
    chosen.push(mode);
  }
  if (chosen.length === 0) throw usageError("no mode given", `e.g. dockernet run ${modeNames.join(" ")}`);
  return chosen;
}

const run = defineCommand({
  meta: {
    name: "run",
    description: "Run several modes in one process, on one Docker events stream per engine",
  },
  args,
  async run({ args: flags, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const chosen = parseModes(flags._.map(String));
    // Every mode's flags are read (and validated), also those of modes not chosen, as one config.
    const resolved = await loadCommandConfig(flags, Object.assign({}, ...modes.map((mode) => modeFlagValues(mode, flags, rawArgs))));
    await serveModes(chosen, resolved);
  },
});

export default withHelp(run, {
  details: ["Each mode logs with its own tag and reads its own config section; a fatal error of one mode stops them all (exit 1)."],
  examples: [
    "dockernet run warp join                              # both daemons, one events stream",
    "dockernet run warp join --container-name traefik --routes 10.0.0.0/8",
    "dockernet run join --keep-going --log-format json",
    "dockernet run warp join --metrics-listen 127.0.0.1:9477   # one /healthz and /metrics for both",
  ],
});
