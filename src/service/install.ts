/**
 * Installing and removing the units of `dockernet service`: observe the unit directory, plan the
 * steps (pure, and what `--dry-run` prints), apply them. systemctl runs only where it acts on
 * these files: the default unit directory, on a machine booted with systemd, with systemctl
 * installed. Elsewhere the files are written and the user is told what to run.
 */
import type { Dirent } from "node:fs";
import { access, chmod, constants, lstat, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";
import { DockernetError, ExitCode, isPermissionError, systemReason } from "../core/errors.ts";
import { modesOfUnitFile, namesOfUnitFile, type ServiceMode, unitName } from "./modes.ts";
import { defaultUnitDir, generatedMarker, type UnitFile } from "./units.ts";

/** What the unit directory holds of ours, and whether systemctl can act on it. */
export interface UnitDirState {
  dir: string;
  exists: boolean;
  /** Unit files named like ours (`dockernet-<modes>.service|timer`): name -> text. */
  files: Map<string, string>;
  /** Enablement symlinks to them: `<dir>/<target>.wants/<file>`. */
  links: string[];
  /** Why systemctl is not run, or undefined when it is. */
  offline?: string;
}

export type Step = { kind: "systemctl"; args: string[] } | { kind: "write"; path: string; text: string } | { kind: "remove"; path: string };

export interface Plan {
  steps: Step[];
  /** What the user runs next, in order. */
  next: string[];
  /** Said before the next steps, e.g. why systemctl was not run. */
  notes: string[];
}

/** Runs `systemctl ARGS...`, rejecting on failure (src/net/runner.ts in the CLI). */
export type Systemctl = (args: readonly string[]) => Promise<unknown>;

async function onPath(command: string): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/bin"].filter(Boolean);
  for (const dir of dirs) {
    try {
      await access(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

async function offlineReason(dir: string): Promise<string | undefined> {
  if (dir !== defaultUnitDir) return `--unit-dir is not ${defaultUnitDir}`;
  // sd_booted(3): this directory exists only when PID 1 is systemd.
  if (!(await lstat("/run/systemd/system").catch(() => undefined))?.isDirectory()) return "systemd is not running here (PID 1 is not systemd)";
  if (!(await onPath("systemctl"))) return "systemctl is not installed";
  return undefined;
}

function fsError(action: string, path: string, error: unknown): DockernetError {
  return new DockernetError(`cannot ${action} ${path}: ${systemReason(error)}`, {
    code: "UNIT_FILE",
    hint: isPermissionError(error) ? "run it as root, e.g. with sudo" : undefined,
    cause: error,
  });
}

/**
 * Reads the unit directory: our unit files (named after modes of `offered`, see serviceModes),
 * their enablement links, and whether systemctl applies.
 */
export async function observeUnitDir(unitDir: string, offered: readonly ServiceMode[]): Promise<UnitDirState> {
  const dir = resolve(unitDir);
  const state: UnitDirState = { dir, exists: false, files: new Map(), links: [], offline: await offlineReason(dir) };
  const ours = (file: string) => modesOfUnitFile(file, offered) !== undefined;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return state;
    throw fsError("read", dir, error);
  }
  state.exists = true;
  for (const entry of entries) {
    if (ours(entry.name) && !entry.isFile() && !entry.isDirectory()) {
      // A unit name of ours that is a symlink (`systemctl link`) or another kind of file: never written through.
      throw new DockernetError(`${join(dir, entry.name)} exists and is not a regular file`, { code: "UNIT_NOT_OURS", exitCode: ExitCode.usage, hint: "remove or rename it first" });
    }
    if (ours(entry.name) && entry.isFile()) {
      state.files.set(entry.name, await readFile(join(dir, entry.name), "utf8").catch((error) => Promise.reject(fsError("read", join(dir, entry.name), error))));
    } else if (entry.name.endsWith(".wants") && entry.isDirectory()) {
      for (const link of await readdir(join(dir, entry.name), { withFileTypes: true }).catch(() => [])) {
        if (link.isSymbolicLink() && ours(link.name)) state.links.push(join(dir, entry.name, link.name));
      }
    }
  }
  return state;
}

function checkOurs(state: UnitDirState, file: string): void {
  const text = state.files.get(file);
  if (text !== undefined && !text.startsWith(generatedMarker)) {
    throw new DockernetError(`${join(state.dir, file)} was not written by dockernet service install; leaving it alone`, {
      code: "UNIT_EXISTS",
      hint: "move it away first if dockernet should manage it",
    });
  }
}

const linksTo = (state: UnitDirState, files: readonly string[]) => state.links.filter((link) => files.some((file) => link.endsWith(`/${file}`)));
const isOneshot = (text: string | undefined) => text?.includes("\nType=oneshot\n") ?? false;

/**
 * The steps that install `units` for `modes`: refuses to overwrite a file it did not write, or to
 * add a second unit running one of the same modes (two reconcilers of one mode would fight).
 * Switching between the daemon and the timer form disables and removes the old form.
 */
export function planInstall(state: UnitDirState, modes: readonly ServiceMode[], units: readonly UnitFile[]): Plan {
  const name = unitName(modes);
  const own = [`${name}.timer`, `${name}.service`];
  for (const file of own) checkOurs(state, file);
  for (const [file, text] of state.files) {
    // The files observed are ours: each names modes that were offered.
    const other = namesOfUnitFile(file) ?? [];
    const shared = other.filter((mode) => modes.includes(mode));
    if (own.includes(file) || shared.length === 0 || !text.startsWith(generatedMarker)) continue;
    throw new DockernetError(`${join(state.dir, file)} already runs ${shared.join(" and ")}; two units running one mode would fight over the same state`, {
      code: "UNIT_CONFLICT",
      hint: `remove it first: dockernet service uninstall ${other.join(" ")}${state.dir === defaultUnitDir ? "" : ` --unit-dir ${state.dir}`}`,
    });
  }
  const wanted = new Map(units.map((unit) => [unit.name, unit.text]));
  const present = own.filter((file) => state.files.has(file));
  const stale = present.filter((file) => !wanted.has(file));
  const service = `${name}.service`;
  const formChanged = stale.length > 0 || (state.files.has(service) && isOneshot(state.files.get(service)) !== isOneshot(wanted.get(service)));
  const changed = units.filter((unit) => state.files.get(unit.name) !== unit.text);
  const steps: Step[] = [];
  if (formChanged) {
    if (state.offline) for (const link of linksTo(state, present)) steps.push({ kind: "remove", path: link });
    else steps.push({ kind: "systemctl", args: ["disable", "--now", ...present] });
  }
  for (const file of stale) steps.push({ kind: "remove", path: join(state.dir, file) });
  for (const unit of changed) steps.push({ kind: "write", path: join(state.dir, unit.name), text: unit.text });
  if (!state.offline && steps.length > 0) steps.push({ kind: "systemctl", args: ["daemon-reload"] });

  const primary = wanted.has(`${name}.timer`) ? `${name}.timer` : service;
  const enable = `systemctl enable --now ${primary}`;
  if (state.offline) {
    return { steps, notes: [`systemctl not run: ${state.offline}`], next: ["systemctl daemon-reload", enable] };
  }
  const running = !formChanged && primary === service && changed.length > 0 && present.length > 0;
  return { steps, notes: [], next: running ? [enable, `systemctl restart ${service}   # if it was running: it still runs the old definition`] : [enable] };
}

/** The steps that remove the units of `modes`: stopped and disabled first where systemctl applies. */
export function planUninstall(state: UnitDirState, modes: readonly ServiceMode[]): Plan {
  const name = unitName(modes);
  const present = [`${name}.timer`, `${name}.service`].filter((file) => state.files.has(file));
  for (const file of present) checkOurs(state, file);
  if (present.length === 0) return { steps: [], next: [], notes: [`nothing to remove: no ${name}.service or ${name}.timer in ${state.dir}`] };
  const steps: Step[] = [];
  if (!state.offline) steps.push({ kind: "systemctl", args: ["disable", "--now", ...present] });
  else for (const link of linksTo(state, present)) steps.push({ kind: "remove", path: link });
  for (const file of present) steps.push({ kind: "remove", path: join(state.dir, file) });
  if (!state.offline) return { steps: [...steps, { kind: "systemctl", args: ["daemon-reload"] }], next: [], notes: [] };
  return {
    steps,
    notes: [`systemctl not run: ${state.offline}`],
    next: [`systemctl stop ${present.join(" ")}   # if they were running`, "systemctl daemon-reload"],
  };
}

/** One step as a line of text: `write /etc/systemd/system/dockernet-warp.service (0644)`. */
export function describeStep(step: Step): string {
  if (step.kind === "systemctl") return `systemctl ${step.args.join(" ")}`;
  return step.kind === "write" ? `write ${step.path} (0644)` : `remove ${step.path}`;
}

/** Performs the steps in order, reporting each one done; stops at the first failure. */
export async function applyPlan(plan: Plan, options: { systemctl: Systemctl; report: (line: string) => void }): Promise<void> {
  for (const step of plan.steps) {
    if (step.kind === "systemctl") {
      await options.systemctl(step.args);
      options.report(`ran systemctl ${step.args.join(" ")}`);
    } else if (step.kind === "write") {
      // Written beside the unit and renamed into place: a crash leaves the old unit or the new one, never half of one.
      const temporary = `${step.path}.dockernet-new`;
      try {
        await writeFile(temporary, step.text, { mode: 0o644, flag: "w" });
        await chmod(temporary, 0o644); // writeFile's mode is masked by the umask
        await rename(temporary, step.path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw fsError("write", step.path, error);
      }
      options.report(`wrote ${step.path}`);
    } else {
      await rm(step.path, { force: true }).catch((error) => Promise.reject(fsError("remove", step.path, error)));
      options.report(`removed ${step.path}`);
    }
  }
}

/** A unit directory that does not exist: nothing can be written there. */
export function missingUnitDir(dir: string): DockernetError {
  return new DockernetError(`unit directory ${dir} does not exist`, {
    code: "UNIT_DIR_MISSING",
    exitCode: ExitCode.usage,
    hint: dir === defaultUnitDir ? "is systemd installed here? --dry-run prints the units without writing them" : "create it first, or name another with --unit-dir",
  });
}
