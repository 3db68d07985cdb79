import type { ArgsDef } from "citty";
import type { FlagValues } from "../config/load.ts";
import { usageError } from "../core/errors.ts";
import type { AnyMode } from "../modes/types.ts";

/** Flags every command accepts. Values left unset fall back to env, then the config file, then defaults. */
export const globalArgs = {
  config: {
    type: "string",
    description: "Config file (TOML). Default: $DOCKERNET_CONFIG, else /etc/dockernet/config.toml if present",
    valueHint: "FILE",
  },
  "log-level": {
    type: "string",
    description: "silent | error | warn | info | debug | trace (default: info)",
    valueHint: "LEVEL",
  },
  "log-format": {
    type: "string",
    description: "pretty | json: json prints one object per line (default: pretty)",
    valueHint: "FORMAT",
  },
  "docker-host": {
    type: "string",
    description: "Docker engine: unix://, tcp://, ssh:// (default: $DOCKER_HOST, else unix:///var/run/docker.sock)",
    valueHint: "URL",
  },
} as const satisfies ArgsDef;

/** Flags of the long-running form of a command (`warp`, `join`, `run`). */
export const daemonArgs = {
  "metrics-listen": {
    type: "string",
    description: "Serve GET /healthz and GET /metrics (Prometheus) on HOST:PORT; a bare PORT listens on 127.0.0.1 (default: off)",
    valueHint: "ADDR",
  },
} as const satisfies ArgsDef;

/** The global flags without `--docker-host`, for a command that talks to no engine (`flow call`). */
export function globalArgsFor(options: { docker: boolean }): ArgsDef {
  if (options.docker) return globalArgs;
  const { "docker-host": _unused, ...rest } = globalArgs;
  return rest;
}

/** A mode's own flags as citty flags; with `action`, only those that subcommand reads (ModeFlag.for). */
export function modeArgs(mode: AnyMode, action?: string): ArgsDef {
  return Object.fromEntries(
    Object.entries(mode.flags)
      .filter(([, def]) => action === undefined || def.for === undefined || def.for.includes(action))
      .map(([flag, def]) => [flag, { type: def.type, description: def.description, ...(def.valueHint ? { valueHint: def.valueHint } : {}) }]),
  );
}

/** Every value a string flag was given (`--volume-root A --volume-root B`); citty keeps only the last. */
function allValues(rawArgs: readonly string[], flag: string): string[] {
  const values: string[] = [];
  for (let index = 0; index < rawArgs.length; index++) {
    const arg = rawArgs[index] as string;
    if (arg === "--") break;
    if (arg.startsWith(`--${flag}=`)) values.push(arg.slice(flag.length + 3));
    else if (arg === `--${flag}` && rawArgs[index + 1] !== undefined) values.push(rawArgs[++index] as string);
  }
  return values;
}

/**
 * The values of a mode's flags, as config values of its section (unset flags left out). A string
 * flag given several times sets a list key to all of them (they join as `a,b`).
 */
export function modeFlagValues(mode: AnyMode, flags: Record<string, unknown>, rawArgs: readonly string[] = []): FlagValues {
  const values: Record<string, unknown> = {};
  for (const [flag, def] of Object.entries(mode.flags)) {
    const repeated = def.type === "string" ? allValues(rawArgs, flag) : [];
    if (repeated.length > 1) values[def.key] = repeated.join(",");
    else if (flags[flag] !== undefined) values[def.key] = flags[flag];
  }
  return { [mode.name]: values };
}

/** Flags of commands that reconcile (`warp`, `join`). */
export const reconcileArgs = {
  once: { type: "boolean", description: "Reconcile once and exit: 0 if all is as planned, 1 otherwise" },
  "dry-run": { type: "boolean", description: "Print the plan and change nothing (implies --once)" },
} as const satisfies ArgsDef;

/**
 * citty ignores flags it does not know; a typo such as `--onse` must not silently start a
 * daemon instead of a one-shot run, so unknown flags are a usage error (exit 2).
 */
export function rejectUnknownFlags(rawArgs: readonly string[], defined: ArgsDef): void {
  const known = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(defined)) {
    known.add(name);
    if (def.type === "boolean") known.add(`no-${name}`);
  }
  for (const arg of rawArgs) {
    if (arg === "--") break;
    // A lone `-` is a value (stdin, as in `--file -`), not a flag.
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^-{1,2}/, "").split("=")[0] ?? "";
    // No hint here: the top level points to the help of the command the flag was given to.
    if (!known.has(name)) throw usageError(`unknown flag ${arg.split("=")[0]}`);
  }
}
