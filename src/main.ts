#!/usr/bin/env -S deno run -A
import { defineCommand, runCommand, runMain, showUsage } from "citty";
import { DockernetError, ExitCode } from "./core/errors.ts";
import { createLogger, currentLogLevel } from "./core/logger.ts";
import { version } from "./core/version.ts";

// Subcommands load lazily: `dockernet --version` or `--help` pulls in no Docker, SSH or Socket.IO code.
const subCommands = {
  warp: () => import("./cli/warp.ts").then((m) => m.default),
  join: () => import("./cli/join.ts").then((m) => m.default),
  run: () => import("./cli/run.ts").then((m) => m.default),
  config: () => import("./cli/config.ts").then((m) => m.default),
  service: () => import("./cli/service.ts").then((m) => m.default),
};

const root = defineCommand({
  meta: {
    name: "dockernet",
    version,
    description: [
      "Container networking that follows containers around.",
      "",
      "Examples:",
      "  dockernet warp                          # route targets through their warp container, follow events",
      "  dockernet warp --once                   # one reconcile, for cron or a systemd timer",
      "  dockernet warp status --json            # what is routed where",
      "  dockernet join                          # keep the HTTP proxy on exactly the networks that need it",
      "  dockernet join status                   # per network: routable containers, joined or not, why",
      "  dockernet run warp join                 # both, in one process on one events stream",
      "  dockernet config validate --config /etc/dockernet/config.toml",
      "  sudo dockernet service install warp     # a systemd unit for the daemon (--timer 5m: a oneshot and a timer)",
      "",
      "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.",
    ].join("\n"),
  },
  subCommands,
});

function report(error: unknown): number {
  const log = createLogger("dockernet");
  if (error instanceof DockernetError) {
    log.error(error.message, { code: error.code });
    if (error.hint) log.info(`hint: ${error.hint}`);
    if (currentLogLevel() === "debug" || currentLogLevel() === "trace") log.debug(error.stack ?? "");
    return error.exitCode;
  }
  if ((error as Error)?.name === "CLIError") {
    log.error((error as Error).message);
    log.info("hint: see dockernet --help");
    return ExitCode.usage;
  }
  log.error(error instanceof Error ? error.message : String(error));
  log.debug(error instanceof Error ? (error.stack ?? "") : "");
  return ExitCode.runtime;
}

async function main(rawArgs: string[]): Promise<void> {
  if (rawArgs.length === 0) {
    await showUsage(root);
    process.exitCode = ExitCode.usage;
    return;
  }
  if (rawArgs.some((arg) => arg === "--help" || arg === "-h") || (rawArgs.length === 1 && ["--version", "-v"].includes(rawArgs[0] ?? ""))) {
    await runMain(root, { rawArgs });
    return;
  }
  try {
    await runCommand(root, { rawArgs });
  } catch (error) {
    process.exitCode = report(error);
  }
}

// No top-level await: the compiled binary is precompiled to bytecode, which needs it.
main(process.argv.slice(2)).then(() => {
  // Open handles (keep-alive sockets, timers of libraries) must not keep a finished command alive.
  process.exit(process.exitCode ?? 0);
});
