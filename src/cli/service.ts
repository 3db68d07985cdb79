import { defineCommand } from "citty";
import { access, constants, mkdir } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { parseDuration } from "../config/duration.ts";
import { findMode, modes as registered } from "../modes/registry.ts";
import type { ModeDescription } from "../modes/description.ts";
import { loadConfig } from "../modes/config.ts";
import { errorMessage, usageError } from "../core/errors.ts";
import { createLogger } from "../core/logger.ts";
import { applyPlan, describeStep, missingUnitDir, observeUnitDir, planInstall, planUninstall, type Plan, type UnitDirState } from "../service/install.ts";
import { parseServiceModes, serviceModes, type ServiceMode } from "../service/modes.ts";
import { defaultUnitDir, renderUnits, type UnitFile } from "../service/units.ts";
import { runCommand } from "../net/runner.ts";
import { rejectUnknownFlags } from "./_args.ts";
import { withHelp } from "./_help.ts";

// What units are made from: the registry's descriptions, handed to src/service/ (which imports no mode).
const offered = serviceModes(registered);

/** The description of a mode parseServiceModes returned. */
function described(name: ServiceMode): ModeDescription {
  const mode = findMode(name);
  if (mode === undefined) throw new Error(`no mode ${name}`);
  return mode;
}

const modesArg = {
  modes: { type: "positional", required: true, description: `One mode, or several run by \`dockernet run\` in one unit: ${offered.join(", ")}`, valueHint: "MODE..." },
} as const;
const unitDirArg = {
  "unit-dir": { type: "string", description: `Where the units go (default: ${defaultUnitDir}; elsewhere systemctl is not run)`, valueHint: "DIR" },
  "dry-run": { type: "boolean", description: "Print what would be written and run, change nothing" },
} as const;

const installArgs = {
  ...modesArg,
  timer: { type: "string", description: "Instead of a daemon: a timer running `<mode> --once` this often (e.g. 5m; at least 10s)", valueHint: "DURATION" },
  binary: { type: "string", description: "The dockernet executable the unit runs (default: this one; required when running from source)", valueHint: "PATH" },
  config: { type: "string", description: "Config file passed to the service as --config (default: none, so it reads /etc/dockernet/config.toml if present)", valueHint: "FILE" },
  ...unitDirArg,
} as const;

// Under `bun src/main.ts` or `deno run`, the running executable is the runtime, not dockernet.
const runtimes = /^(bun|bun\.exe|deno|node)$/;

function defaultBinary(): string {
  if (!runtimes.test(basename(process.execPath))) return process.execPath;
  throw usageError(`dockernet is running from source (${process.execPath}): name the executable the service runs with --binary`, "e.g. --binary /usr/local/bin/dockernet (npm run build writes dist/dockernet)");
}

function parseTimer(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    throw usageError(`--timer: ${errorMessage(error)}`, "e.g. --timer 5m");
  }
}

const write = (line: string) => process.stdout.write(`${line}\n`);

function printDryRun(units: readonly UnitFile[], state: UnitDirState, plan: Plan): void {
  for (const unit of units) write(`# ${state.dir}/${unit.name}\n${unit.text}`);
  write("# Dry run: nothing written, nothing run.");
  if (!state.exists) write(`# ${missingUnitDir(state.dir).message}: a real run would stop there.`);
  for (const step of plan.steps) write(`# would ${describeStep(step)}`);
  printNext(plan, "# ");
}

function printNext(plan: Plan, prefix = ""): void {
  for (const note of plan.notes) write(`${prefix}${note}`);
  for (const command of plan.next) write(`${prefix}next: ${command}`);
}

async function systemctl(args: readonly string[]): Promise<void> {
  await runCommand("systemctl", args, { timeoutMs: 120_000 });
}

const install = defineCommand({
  meta: { name: "install", description: "Write the systemd units that run dockernet: a daemon, or a `--once` service and its timer" },
  args: installArgs,
  async run({ args: flags, rawArgs }) {
    rejectUnknownFlags(rawArgs, installArgs);
    const modes = parseServiceModes(flags._.map(String), registered);
    const binary = resolve(flags.binary ?? defaultBinary());
    const config = flags.config === undefined ? undefined : resolve(flags.config);
    const units = renderUnits(modes.map(described), { binary, config, timerMs: parseTimer(flags.timer) });
    // What the service will read: this file (or the default one), and no DOCKERNET_* environment.
    await loadConfig({ file: config, env: {} });
    const log = createLogger("service");
    if (!(await access(binary, constants.X_OK).then(() => true, () => false))) {
      log.warn(`${binary} is not an executable file: the unit cannot start until it is`, { hint: "install it there, or name it with --binary" });
    }
    const state = await observeUnitDir(flags["unit-dir"] ?? defaultUnitDir, offered);
    const plan = planInstall(state, modes, units);
    if (flags["dry-run"]) return printDryRun(units, state, plan);
    if (!state.exists) throw missingUnitDir(state.dir);
    if (plan.steps.length === 0) write(`${units.map((unit) => unit.name).join(" and ")} already installed in ${state.dir}, unchanged`);
    await applyPlan(plan, { systemctl, report: write });
    if (state.dir === defaultUnitDir) await makeWritableDirs(modes);
    printNext(plan);
  },
});

/**
 * The directories a mode writes outside /run (flow's token in /etc/dockernet) must exist before
 * its unit starts: ReadWritePaths= cannot make a missing one writable under ProtectSystem=strict.
 */
async function makeWritableDirs(modes: readonly ServiceMode[]): Promise<void> {
  for (const path of modes.flatMap((mode) => described(mode).writes?.paths ?? [])) {
    if (path.startsWith("/run/")) continue;
    await mkdir(path, { recursive: true, mode: 0o700 });
    write(`made ${path} (the service writes there)`);
  }
}

const uninstallArgs = { ...modesArg, ...unitDirArg } as const;

const uninstall = defineCommand({
  meta: { name: "uninstall", description: "Stop, disable and remove the units `dockernet service install` wrote for these modes (only files it wrote)" },
  args: uninstallArgs,
  async run({ args: flags, rawArgs }) {
    rejectUnknownFlags(rawArgs, uninstallArgs);
    const modes = parseServiceModes(flags._.map(String), registered);
    const state = await observeUnitDir(flags["unit-dir"] ?? defaultUnitDir, offered);
    if (!state.exists) throw missingUnitDir(state.dir);
    const plan = planUninstall(state, modes);
    if (flags["dry-run"]) {
      for (const step of plan.steps) write(`would ${describeStep(step)}`);
      return printNext(plan);
    }
    await applyPlan(plan, { systemctl, report: write });
    printNext(plan);
  },
});

const service = defineCommand({
  meta: { name: "service", description: "Run dockernet under systemd: install or uninstall its units" },
  subCommands: {
    install: withHelp(install, {
      details: [
        "A daemon restarted on failure, or with --timer a oneshot `--once` service and its timer. In /etc/systemd/system",
        "on a machine running systemd it also runs `systemctl daemon-reload` (and stops the old form when switching",
        "between daemon and timer); it starts nothing itself, and prints the command that does.",
      ],
      examples: [
        "sudo dockernet service install warp                   # dockernet-warp.service",
        "sudo dockernet service install warp join              # dockernet-warp-join.service: dockernet run warp join",
        "sudo dockernet service install join --timer 5m        # dockernet-join.service (oneshot) + dockernet-join.timer",
        "dockernet service install warp --dry-run              # print the unit, write nothing",
        "dockernet service install warp --config /etc/dockernet/warp.toml --binary /usr/local/bin/dockernet",
      ],
    }),
    uninstall: withHelp(uninstall, {
      examples: ["sudo dockernet service uninstall warp", "sudo dockernet service uninstall warp join", "dockernet service uninstall join --dry-run"],
    }),
  },
});

export default withHelp(service, {
  examples: [
    "sudo dockernet service install warp && sudo systemctl enable --now dockernet-warp.service",
    "sudo dockernet service install join --timer 5m && sudo systemctl enable --now dockernet-join.timer",
    "dockernet service install warp join --dry-run",
    "sudo dockernet service uninstall warp",
  ],
});
