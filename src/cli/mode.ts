import { defineCommand, runCommand, type ArgsDef, type CommandDef } from "citty";
import { usageError } from "../core/errors.ts";
import { createLogger } from "../core/logger.ts";
import type { AnyMode } from "../modes/types.ts";
import { daemonArgs, globalArgs, modeArgs, modeFlagValues, reconcileArgs, rejectUnknownFlags } from "./_args.ts";
import { connectDocker, loadCommandConfig } from "./_context.ts";
import { detach } from "./_detach.ts";
import { withHelp } from "./_help.ts";
import { serveModes } from "./_serve.ts";

/** The flags of a mode's command: the global ones, the forms the mode has, and its own. */
function argsOf(mode: AnyMode): ArgsDef {
  return {
    ...(mode.status
      ? {
          action: {
            type: "positional",
            required: false,
            description: [mode.status.help, ...Object.entries(mode.actions ?? {}).map(([name, action]) => `${name}: ${action.summary}`)].join("; "),
            valueHint: ["status", ...Object.keys(mode.actions ?? {})].join("|"),
          },
        }
      : {}),
    ...globalArgs,
    ...(mode.once ? reconcileArgs : {}),
    ...daemonArgs,
    ...(mode.status ? { json: { type: "boolean", description: mode.status.json } } : {}),
    ...modeArgs(mode),
  };
}

const write = (text: string) => process.stdout.write(`${text}\n`);

/** One action of a mode as a subcommand: the global flags, the mode's flags, its own args. */
function actionCommand(mode: AnyMode, name: string, action: NonNullable<AnyMode["actions"]>[string]): CommandDef<ArgsDef> {
  const args: ArgsDef = { ...action.args, ...globalArgs, ...modeArgs(mode) };
  const command = defineCommand({
    meta: { name, description: action.summary },
    args,
    async run({ args: flags, rawArgs }) {
      rejectUnknownFlags(rawArgs, args);
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

/** A mode whose daemon is one of its subcommands (`dockernet flow serve`, `flow call`...). */
function commandWithActions(mode: AnyMode, daemonAction: string): CommandDef<ArgsDef> {
  const detachArg: ArgsDef = mode.detach ? { detach: { type: "boolean", description: "Start in the background and return once it serves (its output goes to a log file)" } } : {};
  const daemonArgsOf: ArgsDef = { ...globalArgs, ...daemonArgs, ...modeArgs(mode), ...detachArg };
  const daemon = withHelp(
    defineCommand({
      meta: { name: daemonAction, description: `run the ${mode.name} daemon` },
      args: daemonArgsOf,
      async run({ args: flags, rawArgs }) {
        rejectUnknownFlags(rawArgs, daemonArgsOf);
        const resolved = await loadCommandConfig(flags as Parameters<typeof loadCommandConfig>[0], modeFlagValues(mode, flags, rawArgs));
        const config = resolved.config[mode.name as keyof typeof resolved.config];
        if (flags.detach && mode.detach) {
          const logFile = mode.detach.logFile(config);
          const pid = await detach(logFile, (pid) => mode.detach?.ready(config, pid) ?? Promise.resolve(true), mode.detach.timeoutMs?.(config));
          process.stdout.write(`${mode.name} running in the background (PID ${pid}); its log is ${logFile}\n`);
          return;
        }
        await serveModes([mode], resolved);
      },
    }),
    { examples: mode.examples.filter((line) => line.includes(` ${daemonAction}`)) },
  );
  const actions = Object.entries(mode.actions ?? {}).map(([name, action]) => [name, actionCommand(mode, name, action)] as const);
  const command = defineCommand({
    meta: { name: mode.name, description: mode.summary },
    subCommands: Object.fromEntries([[daemonAction, daemon], ...actions]),
  });
  return withHelp(command, { details: mode.details, examples: mode.examples });
}

/**
 * The command of a mode (`dockernet warp`, `dockernet join`): the daemon, `--once`,
 * `--once --dry-run` and `status`, whichever the mode has, or with a `daemonAction` a command
 * per action (`dockernet flow serve|call|watch|agent`). Written once for every mode; the mode's
 * description says what each form does.
 */
export function modeCommand(mode: AnyMode): CommandDef<ArgsDef> {
  if (mode.daemonAction !== undefined) return commandWithActions(mode, mode.daemonAction);
  const args = argsOf(mode);
  const command = defineCommand({
    meta: { name: mode.name, description: mode.summary },
    args,
    async run({ args: flags, rawArgs }) {
      const action = flags.action as string | undefined;
      const own = action === undefined ? undefined : mode.actions?.[action];
      if (own !== undefined) {
        // An action beside `status` (`warp runtime install`) has flags of its own: the words go to it unparsed.
        const at = rawArgs.indexOf(action as string);
        return await runCommand(actionCommand(mode, action as string, own), { rawArgs: rawArgs.filter((_, index) => index !== at) });
      }
      rejectUnknownFlags(rawArgs, args);
      if (action !== undefined && action !== "status") {
        const known = ["status", ...Object.keys(mode.actions ?? {})].map((name) => `\`${name}\``).join(", ");
        throw usageError(`unknown ${mode.name} action ${JSON.stringify(action)}`, `the actions are ${known}; see dockernet ${mode.name} --help`);
      }
      const resolved = await loadCommandConfig(flags as Parameters<typeof loadCommandConfig>[0], modeFlagValues(mode, flags, rawArgs));
      const oneShot = action === "status" || flags.once === true || flags["dry-run"] === true;
      if (!oneShot) return await serveModes([mode], resolved);
      const context = { client: await connectDocker(resolved), config: resolved.config[mode.name as keyof typeof resolved.config], log: createLogger(mode.name) };

      if (action === "status" && mode.status) return write(await mode.status.show(context, { json: flags.json === true }));
      if (flags["dry-run"]) {
        if (!mode.dryRun) throw usageError(`${mode.name} has no --dry-run`);
        const result = await mode.dryRun(context);
        write(result.text);
        process.exitCode = result.exitCode;
        return;
      }
      if (!mode.once) throw usageError(`${mode.name} has no --once`);
      const result = await mode.once(context);
      for (const failure of result.failures) context.log.error("not as planned", { error: failure });
      context.log.info("reconciled once", result.summary);
      process.exitCode = result.exitCode;
    },
  });
  return withHelp(command, { details: mode.details, examples: mode.examples });
}
