/**
 * The systemd units of `dockernet service install`, rendered as text: no I/O here (writing them
 * is install.ts). The daemon form is one `<name>.service`; the timer form is a oneshot
 * `<name>.service` running `--once` plus the `<name>.timer` that starts it. Both forms share the
 * service name, so a unit dir never holds both.
 */
import { usageError } from "../core/errors.ts";
import { daemonWords, type ModeDescription } from "../modes/description.ts";
import { unitName } from "./modes.ts";
import { sandboxSettings } from "./sandbox.ts";
import { execWord, systemdTimeSpan } from "./syntax.ts";

/** Where an administrator's units go; `systemctl` reads it first. */
export const defaultUnitDir = "/etc/systemd/system";

/** The shortest `--timer`: more often than this, the daemon form reacts sooner for less work. */
export const minTimerMs = 10_000;

/** The first line of every unit we write; uninstall removes only files that start with it. */
export const generatedMarker = "# Installed by `dockernet service install";

const documentation = "https://github.com/dockernet/dockernet#run-as-a-service";


export interface UnitOptions {
  /** Absolute path of the dockernet executable. */
  binary: string;
  /** Absolute path of a config file, passed on as `--config`. */
  config?: string;
  /** Run `<mode> --once` this often from a timer, instead of the daemon. */
  timerMs?: number;
}

export interface UnitFile {
  /** The file name, e.g. `dockernet-warp.service`. */
  name: string;
  text: string;
}

// PrivateTmp=yes gives the service an empty /tmp of its own, and both are cleared at boot anyway.
const privateTmp = /^\/(var\/)?tmp(\/|$)/;

function checkPath(flag: string, path: string, elsewhere: string): void {
  if (!path.startsWith("/")) throw usageError(`${flag} ${JSON.stringify(path)} is not an absolute path`);
  if (privateTmp.test(path)) {
    throw usageError(`${flag} ${path} is under /tmp, which the service cannot see (PrivateTmp=yes) and which is cleared at boot`, elsewhere);
  }
}

const namesOf = (modes: readonly ModeDescription[]) => modes.map((mode) => mode.name);

function commandLine(modes: readonly ModeDescription[], options: UnitOptions, once: boolean): string {
  // One mode runs as `dockernet <mode>`, or `dockernet flow serve` where the daemon is an action.
  const single = modes[0] === undefined ? [] : once ? [modes[0].name] : daemonWords(modes[0]);
  const mode = modes.length > 1 ? ["run", ...namesOf(modes)] : single;
  const words = [options.binary, ...mode, ...(once ? ["--once"] : []), ...(options.config ? ["--config", options.config] : [])];
  return words.map(execWord).join(" ");
}

const text = (lines: readonly string[]) => `${lines.join("\n")}\n`;

function unitSection(description: string): string[] {
  return ["[Unit]", `Description=${description}`, `Documentation=${documentation}`, "After=docker.service", "Requires=docker.service"];
}

function daemonService(modes: readonly ModeDescription[], options: UnitOptions, marker: string): string[] {
  const names = namesOf(modes);
  const shown = modes.length > 1 ? `run ${names.join(" ")}: ${names.join(" and ")} on one Docker events stream` : `${names[0]}: ${modes[0]?.summary}`;
  return [
    marker,
    ...unitSection(`dockernet ${shown}`),
    "",
    "[Service]",
    `ExecStart=${commandLine(modes, options, false)}`,
    "Restart=on-failure",
    "RestartSec=5s",
    "# Exit code 2 is a usage or config error: restarting cannot fix it.",
    "RestartPreventExitStatus=2",
    "# An idle daemon gains nothing from the optimizing JIT compiler, and holds about 5 MB less without it.",
    "Environment=BUN_JSC_useDFGJIT=0",
    ...sandboxSettings(modes, [options.binary, options.config]),
    "",
    "[Install]",
    "# docker.service too: `systemctl start docker` after a `systemctl stop docker` starts dockernet again.",
    "WantedBy=multi-user.target docker.service",
  ];
}

function oneshotService(mode: ModeDescription, options: UnitOptions, marker: string): string[] {
  return [
    marker,
    ...unitSection(`dockernet ${mode.name} --once: one reconcile, started by ${unitName([mode.name])}.timer`),
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${commandLine([mode], options, true)}`,
    "# A reconcile that hangs (an engine that accepts connections but never answers) is stopped, so later ticks still run.",
    "TimeoutStartSec=10min",
    ...sandboxSettings([mode], [options.binary, options.config]),
  ];
}

function timer(mode: ModeDescription, every: string, marker: string): string[] {
  return [
    marker,
    "[Unit]",
    `Description=dockernet ${mode.name} --once every ${every}`,
    `Documentation=${documentation}`,
    "",
    "[Timer]",
    // Monotonic, not OnCalendar=: a reconcile needs spacing, not wall-clock alignment; any
    // interval works (90s, 7min: no calendar expression for those); clock changes do not matter.
    // Persistent= (catching up on runs missed while off) exists only for OnCalendar=, and the one
    // catch-up run that matters is the one OnBootSec= gives, which also fires at once when the
    // timer is enabled long after boot.
    "# Once soon after boot (or at once when enabled later), then every interval after the last start.",
    "OnBootSec=1min",
    `OnUnitActiveSec=${every}`,
    "# The default accuracy of 1min would stretch short intervals; one wakeup per run costs nothing.",
    "AccuracySec=1s",
    "",
    "[Install]",
    "WantedBy=timers.target",
  ];
}

/**
 * The units for `modes`: the daemon form, or with `timerMs` the timer form. Throws a usage error
 * (exit 2) for options no unit can honour.
 */
export function renderUnits(modes: readonly ModeDescription[], options: UnitOptions): UnitFile[] {
  const [mode] = modes;
  if (mode === undefined) throw usageError("no mode given");
  checkPath("--binary", options.binary, "install it first, e.g. to /usr/local/bin/dockernet, and name that with --binary");
  if (options.config !== undefined) checkPath("--config", options.config, "put the config under /etc/dockernet/");
  const names = namesOf(modes);
  const name = unitName(names);
  const uninstall = `remove with \`dockernet service uninstall ${names.join(" ")}\`.`;
  if (options.timerMs === undefined) {
    return [{ name: `${name}.service`, text: text(daemonService(modes, options, `${generatedMarker} ${names.join(" ")}\`; ${uninstall}`)) }];
  }
  // Only a reconciler has a --once form for a timer to run.
  const service = modes.find((each) => each.kind !== "reconciler");
  if (service !== undefined) throw usageError(`--timer: ${service.name} has no --once form`, "install it as a daemon: leave out --timer");

  const every = systemdTimeSpan(options.timerMs);
  if (modes.length > 1) {
    throw usageError(
      "--timer takes one mode: a timer runs `<mode> --once`, and `dockernet run` has no --once",
      `install one timer per mode: ${names.map((each) => `dockernet service install ${each} --timer ${every}`).join("; ")}`,
    );
  }
  if (!Number.isInteger(options.timerMs) || options.timerMs < minTimerMs) {
    throw usageError(`--timer ${every} is too short (at least ${systemdTimeSpan(minTimerMs)})`, "for quicker reactions install the daemon: leave out --timer");
  }
  const marker = `${generatedMarker} ${mode.name} --timer ${every}\`; ${uninstall}`;
  return [
    { name: `${name}.service`, text: text(oneshotService(mode, options, marker)) },
    { name: `${name}.timer`, text: text(timer(mode, every, marker)) },
  ];
}
