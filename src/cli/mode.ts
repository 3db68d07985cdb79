import { defineCommand, type ArgsDef, type CommandDef } from "citty";
import { usageError } from "../core/errors.ts";
import { shutdownSignal } from "../core/lifecycle.ts";
import { createLogger } from "../core/logger.ts";
import { runDaemon } from "../modes/daemon.ts";
import type { AnyMode } from "../modes/types.ts";
import { daemonArgs, globalArgs, modeArgs, modeFlagValues, reconcileArgs, rejectUnknownFlags } from "./_args.ts";
import { connectDocker, loadCommandConfig } from "./_context.ts";
import { withHelp } from "./_help.ts";

/** The flags of a mode's command: the global ones, the forms the mode has, and its own. */
function argsOf(mode: AnyMode): ArgsDef {
  return {
    ...(mode.status ? { action: { type: "positional", required: false, description: mode.status.help, valueHint: "status" } } : {}),
    ...globalArgs,
    ...(mode.once ? reconcileArgs : {}),
    ...daemonArgs,
    ...(mode.status ? { json: { type: "boolean", description: mode.status.json } } : {}),
    ...modeArgs(mode),
  };
}

const write = (text: string) => process.stdout.write(`${text}\n`);

/**
 * The command of a mode (`dockernet warp`, `dockernet join`): the daemon, `--once`,
 * `--once --dry-run` and `status`, whichever the mode has. Written once for every mode; the
 * mode's description says what each form does.
 */
export function modeCommand(mode: AnyMode): CommandDef<ArgsDef> {
  const args = argsOf(mode);
  const command = defineCommand({
    meta: { name: mode.name, description: mode.summary },
    args,
    async run({ args: flags, rawArgs }) {
      rejectUnknownFlags(rawArgs, args);
      const action = flags.action as string | undefined;
      if (action !== undefined && action !== "status") {
        throw usageError(`unknown ${mode.name} action ${JSON.stringify(action)}`, `the only action is \`status\`; see dockernet ${mode.name} --help`);
      }
      const resolved = await loadCommandConfig(flags as Parameters<typeof loadCommandConfig>[0], modeFlagValues(mode, flags));
      const client = await connectDocker(resolved);
      const context = { client, config: resolved.config[mode.name as keyof typeof resolved.config], log: createLogger(mode.name) };

      if (action === "status" && mode.status) return write(await mode.status.show(context, { json: flags.json === true }));
      if (flags["dry-run"] && mode.dryRun) {
        const result = await mode.dryRun(context);
        write(result.text);
        process.exitCode = result.exitCode;
        return;
      }
      if ((flags.once || flags["dry-run"]) && mode.once) {
        const result = await mode.once(context);
        for (const failure of result.failures) context.log.error("not as planned", { error: failure });
        context.log.info("reconciled once", result.summary);
        process.exitCode = result.exitCode;
        return;
      }
      const shutdown = shutdownSignal();
      try {
        await runDaemon([mode], { client, config: resolved.config, signal: shutdown.signal, metricsListen: resolved.config.metrics.listen });
      } finally {
        shutdown.dispose();
      }
    },
  });
  return withHelp(command, { details: mode.details, examples: mode.examples });
}
