import { defineCommand, type ArgsDef, type CommandDef } from "citty";
import { usageError } from "../core/errors.ts";
import { createLogger } from "../core/logger.ts";
import type { ReconcilerDefinition } from "../modes/types.ts";
import { actionCommands } from "./_action.ts";
import { daemonArgs, globalArgs, modeArgs, modeFlagValues, reconcileArgs, rejectUnknownFlags } from "./_args.ts";
import { connectDocker, loadCommandConfig } from "./_context.ts";
import { withHelp } from "./_help.ts";
import { serveModes } from "./_serve.ts";

type Reconciler = ReconcilerDefinition<string, any>;

const write = (text: string) => process.stdout.write(`${text}\n`);

/** `<mode> status [--json]`: what is in force. */
function statusCommand(mode: Reconciler, status: NonNullable<Reconciler["status"]>): CommandDef<ArgsDef> {
  const args: ArgsDef = { ...globalArgs, ...modeArgs(mode, "status"), json: { type: "boolean", description: status.json } };
  const command = defineCommand({
    meta: { name: "status", description: status.help },
    args,
    async run({ args: flags, rawArgs }) {
      rejectUnknownFlags(rawArgs, args);
      const resolved = await loadCommandConfig(flags as Parameters<typeof loadCommandConfig>[0], modeFlagValues(mode, flags, rawArgs));
      const context = { client: await connectDocker(resolved), config: resolved.config[mode.name as keyof typeof resolved.config], log: createLogger(mode.name) };
      write(await status.show(context, { json: flags.json === true }));
    },
  });
  return withHelp(command, { examples: mode.examples.filter((line) => line.includes(` ${mode.name} status`)) });
}

/**
 * The command of a reconciler (`dockernet warp`, `dockernet join`): the bare command is the
 * daemon, `--once` one reconcile, `--once --dry-run` the plan; `status` and the mode's actions are
 * subcommands. Written once for every reconciler; its description says what each form does.
 */
export function reconcilerCommand(mode: Reconciler): CommandDef<ArgsDef> {
  const subCommands = { ...(mode.status ? { status: statusCommand(mode, mode.status) } : {}), ...actionCommands(mode) };
  const names = Object.keys(subCommands);
  const args: ArgsDef = { ...globalArgs, ...reconcileArgs, ...daemonArgs, ...modeArgs(mode) };
  const command = defineCommand({
    meta: { name: mode.name, description: mode.summary },
    args,
    subCommands,
    // Before citty looks for a subcommand, so an unknown word is our usage error, not citty's.
    setup({ args: flags }) {
      const word = flags._[0];
      if (word !== undefined && !names.includes(word)) {
        throw usageError(`unknown ${mode.name} action ${JSON.stringify(word)}`, `${names.length > 0 ? `the actions are ${names.join(", ")}` : "it has no actions"}; see dockernet ${mode.name} --help`);
      }
    },
    async run({ args: flags, rawArgs }) {
      // citty runs a command's `run` after its subcommand's: the subcommand was the command.
      if (flags._.length > 0) return;
      rejectUnknownFlags(rawArgs, args);
      const resolved = await loadCommandConfig(flags as Parameters<typeof loadCommandConfig>[0], modeFlagValues(mode, flags, rawArgs));
      if (flags.once !== true && flags["dry-run"] !== true) return await serveModes([mode], resolved);
      const context = { client: await connectDocker(resolved), config: resolved.config[mode.name as keyof typeof resolved.config], log: createLogger(mode.name) };
      if (flags["dry-run"]) {
        if (!mode.dryRun) throw usageError(`${mode.name} has no --dry-run`);
        const result = await mode.dryRun(context);
        write(result.text);
        process.exitCode = result.exitCode;
        return;
      }
      const result = await mode.once(context);
      for (const failure of result.failures) context.log.error("not as planned", { error: failure });
      context.log.info("reconciled once", result.summary);
      process.exitCode = result.exitCode;
    },
  });
  return withHelp(command, { details: mode.details, examples: mode.examples });
}
