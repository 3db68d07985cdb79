import { defineCommand, type ArgsDef, type CommandDef } from "citty";
import type { ServiceDefinition } from "../modes/types.ts";
import { actionCommands } from "./_action.ts";
import { daemonArgs, globalArgsFor, modeArgs, modeFlagValues, rejectUnknownFlags } from "./_args.ts";
import { loadCommandConfig } from "./_context.ts";
import { detach } from "./_detach.ts";
import { withHelp } from "./_help.ts";
import { serveModes } from "./_serve.ts";

/** The daemon action of a service (`flow serve`, `bridge start`), with `--detach` when the mode has it. */
function daemonCommand(mode: ServiceDefinition<string, any>): CommandDef<ArgsDef> {
  const detachArg: ArgsDef = mode.detach ? { detach: { type: "boolean", description: "Start in the background and return once it serves (its output goes to a log file)" } } : {};
  const args: ArgsDef = { ...globalArgsFor({ docker: mode.localDocker !== false }), ...daemonArgs, ...modeArgs(mode, mode.daemonAction), ...detachArg };
  const command = defineCommand({
    meta: { name: mode.daemonAction, description: `Run the ${mode.name} daemon` },
    args,
    async run({ args: flags, rawArgs }) {
      rejectUnknownFlags(rawArgs, args);
      const resolved = await loadCommandConfig(flags as Parameters<typeof loadCommandConfig>[0], modeFlagValues(mode, flags, rawArgs));
      const config = resolved.config[mode.name as keyof typeof resolved.config];
      if (flags.detach && mode.detach) {
        const { ready, timeoutMs } = mode.detach;
        const logFile = mode.detach.logFile(config);
        const pid = await detach(logFile, (pid) => ready(config, pid), timeoutMs?.(config));
        process.stdout.write(`${mode.name} running in the background (PID ${pid}); its log is ${logFile}\n`);
        return;
      }
      await serveModes([mode], resolved);
    },
  });
  return withHelp(command, { examples: mode.examples.filter((line) => line.includes(` ${mode.daemonAction}`)) });
}

/** The command of a service (`dockernet flow serve|call|watch|agent`): a subcommand per action, the daemon one of them. */
export function serviceCommand(mode: ServiceDefinition<string, any>): CommandDef<ArgsDef> {
  const command = defineCommand({
    meta: { name: mode.name, description: mode.summary },
    subCommands: { [mode.daemonAction]: daemonCommand(mode), ...actionCommands(mode) },
  });
  return withHelp(command, { details: mode.details, examples: mode.examples });
}
