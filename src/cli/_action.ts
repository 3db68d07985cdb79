import { defineCommand, type ArgsDef, type CommandDef } from "citty";
import { createLogger } from "../core/logger.ts";
import { normalJitPolicy, setJitPolicy } from "../core/runtime.ts";
import type { AnyMode, ModeAction } from "../modes/types.ts";
import { globalArgsFor, modeArgs, modeFlagValues, rejectUnknownFlags } from "./_args.ts";
import { connectDocker, loadCommandConfig } from "./_context.ts";
import { withHelp } from "./_help.ts";

/** One action of a mode as a subcommand (`flow call`, `warp runtime`): the global flags, the mode's flags, its own args. */
export function actionCommand(mode: AnyMode, name: string, action: ModeAction<unknown>): CommandDef<ArgsDef> {
  const args: ArgsDef = { ...action.args, ...globalArgsFor({ docker: action.docker || action.recordsDockerHost === true }), ...modeArgs(mode, name) };
  const command = defineCommand({
    meta: { name, description: action.summary },
    args,
    async run({ args: flags, rawArgs }) {
      rejectUnknownFlags(rawArgs, args);
      if (action.relaysStreams) setJitPolicy(normalJitPolicy);
      const resolved = await loadCommandConfig(flags as Parameters<typeof loadCommandConfig>[0], modeFlagValues(mode, flags, rawArgs));
      const client = action.docker ? await connectDocker(resolved) : undefined;
      const own = Object.fromEntries(Object.keys(action.args).map((key) => [key, flags[key] as string | boolean | undefined]));
      const dashes = rawArgs.indexOf("--");
      process.exitCode = await action.run({
        config: resolved.config[mode.name as keyof typeof resolved.config],
        log: createLogger(mode.name),
        ...(client ? { client } : {}),
        args: own,
        rest: dashes < 0 ? [] : rawArgs.slice(dashes + 1),
        globals: {
          ...(resolved.sources["docker.host"] !== "default" ? { dockerHost: resolved.config.docker.host } : {}),
          ...(resolved.file !== undefined ? { configFile: resolved.file } : {}),
        },
      });
    },
  });
  return withHelp(command, { details: action.details, examples: action.examples });
}

/** Every action of a mode as a subcommand, by name. */
export function actionCommands(mode: AnyMode): Record<string, CommandDef<ArgsDef>> {
  return Object.fromEntries(Object.entries(mode.actions ?? {}).map(([name, action]) => [name, actionCommand(mode, name, action)]));
}
