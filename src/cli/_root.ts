/**
 * The command tree: every command but the two that main.ts answers before loading it (the OCI
 * runtime's calls and `--version`), with citty, the help and the error report.
 */
import { defineCommand, runCommand, type ArgsDef, type CommandDef } from "citty";
import { commandPath, showHelp, withHelp, withoutColors, type CommandSummary, type PathStep } from "./_help.ts";
import { DockernetError, ExitCode, usageError } from "../core/errors.ts";
import { createLogger, currentLogLevel } from "../core/logger.ts";
import { version } from "../core/version.ts";

// Commands load lazily: `dockernet --version` loads not even the registry, and `--help` no
// command's code (so no Docker, SSH or Socket.IO code). Each mode is a command of its own, built
// from its description in the registry.
type LazyCommand = CommandSummary & { load(): Promise<unknown> };
let commandList: Promise<LazyCommand[]> | undefined;

function commands(): Promise<LazyCommand[]> {
  commandList ??= import("../modes/registry.ts").then(({ modes }) => [
    ...modes.map((mode) => ({ name: mode.name, summary: mode.summary, load: () => import("./mode.ts").then((m) => m.modeCommand(mode)) })),
    { name: "run", summary: "run several modes in one process, on one Docker events stream", load: () => import("./run.ts").then((m) => m.default) },
    { name: "config", summary: "check the configuration and show where each value comes from", load: () => import("./config.ts").then((m) => m.default) },
    { name: "service", summary: "install or uninstall the systemd units that run dockernet", load: () => import("./service.ts").then((m) => m.default) },
  ]);
  return commandList;
}

const root = withHelp(
  defineCommand({
    meta: { name: "dockernet", version, description: "Container networking that follows containers around." },
    subCommands: async () => Object.fromEntries((await commands()).map((command) => [command.name, command.load])) as never,
  }),
  {
    details: ["Exit codes: 0 ok, 1 runtime failure, 2 usage or config error."],
    examples: [
      "dockernet warp                          # route targets through their warp container, follow events",
      "dockernet warp --once                   # one reconcile, for cron or a systemd timer",
      "dockernet warp status --json            # what is routed where",
      "dockernet join                          # keep the HTTP proxy on exactly the networks that need it",
      "dockernet join status                   # per network: routable containers, joined or not, why",
      "dockernet flow serve                    # the flow API and page on 127.0.0.1:7780 (other paths: --help)",
      "dockernet flow call list_containers     # one request; give it serve's --token-file, --listen",
      "dockernet bridge start --host ssh://box # a local Docker socket for the remote engine on box",
      "dockernet run warp join                 # both, in one process on one events stream",
      "dockernet config validate --config /etc/dockernet/config.toml",
      "sudo dockernet service install warp     # a systemd unit for the daemon (--timer 5m: a oneshot and a timer)",
    ],
  },
);

/**
 * `--help` of the command the words of `rawArgs` name; the root's lists the commands from their
 * summaries, loading none. With `exact` (`dockernet help WORDS`), a word that names no command is
 * a usage error rather than the help of the command before it.
 */
async function help(rawArgs: readonly string[], exact = false): Promise<void> {
  const path = rawArgs.length === 0 ? [{ name: "dockernet", command: root as CommandDef<ArgsDef> }] : await commandPath(root as CommandDef<ArgsDef>, rawArgs);
  // Only where a command was being named: `dockernet help run warp` is run's help (warp is its argument).
  const named = exact && (path.at(-1) as PathStep).command.subCommands !== undefined;
  const unknown = named ? rawArgs.filter((word) => !word.startsWith("-"))[path.length - 1] : undefined;
  if (unknown !== undefined) {
    const parent = path.map((step) => step.name).join(" ");
    throw usageError(`${parent} has no command ${JSON.stringify(unknown)}`, `see ${parent} --help`);
  }
  await showHelp(path, await commands());
}

/** `dockernet flow` for a usage error of `dockernet flow ...`: the help to point to is that command's own. */
async function commandWords(rawArgs: readonly string[]): Promise<string> {
  const path = await commandPath(root as CommandDef<ArgsDef>, rawArgs).catch(() => []);
  return path.length > 0 ? path.map((step) => step.name).join(" ") : "dockernet";
}

async function report(error: unknown, rawArgs: readonly string[]): Promise<number> {
  const log = createLogger("dockernet");
  if (error instanceof DockernetError) {
    log.error(error.message, { code: error.code });
    // A usage error with nothing more specific to say points to the help of the command it was made in.
    const hint = error.hint ?? (error.exitCode === ExitCode.usage ? `see ${await commandWords(rawArgs)} --help` : undefined);
    if (hint) log.info(`hint: ${hint}`);
    if (currentLogLevel() === "debug" || currentLogLevel() === "trace") log.debug(error.stack ?? "");
    return error.exitCode;
  }
  if ((error as Error)?.name === "CLIError") {
    // citty colours the word it did not know even when stderr is a file or a pipe.
    log.error(withoutColors((error as Error).message), { code: "USAGE" });
    log.info(`hint: see ${await commandWords(rawArgs)} --help`);
    return ExitCode.usage;
  }
  log.error(error instanceof Error ? error.message : String(error));
  log.debug(error instanceof Error ? (error.stack ?? "") : "");
  return ExitCode.runtime;
}

/** Runs the command `rawArgs` names; its exit status is left in process.exitCode. */
export async function runCli(rawArgs: string[]): Promise<void> {
  const isHelp = (arg: string) => arg === "--help" || arg === "-h";
  // The root's help straight away: citty would load every command looking for aliases.
  if (rawArgs.length === 0 || rawArgs.every(isHelp)) {
    await help([]);
    if (rawArgs.length === 0) process.exitCode = ExitCode.usage;
    return;
  }
  // `dockernet help [COMMAND...]` is `dockernet [COMMAND...] --help`.
  if (rawArgs[0] === "help") return await help(rawArgs.slice(1), true).catch(async (error: unknown) => void (process.exitCode = await report(error, [])));
  // Words after `--` are another program's (`flow agent -- redis-cli -h redis`), not ours.
  const ours = rawArgs.includes("--") ? rawArgs.slice(0, rawArgs.indexOf("--")) : rawArgs;
  if (ours.some(isHelp)) return await help(ours.filter((arg) => !isHelp(arg)));
  try {
    await runCommand(root, { rawArgs });
  } catch (error) {
    process.exitCode = await report(error, ours);
  }
}
