/**
 * Which modes a unit runs, and the unit names that follow from them. One mode runs as
 * `dockernet <mode>`; several run as `dockernet run <mode>...` in one unit named after all of them
 * (`dockernet-warp-join.service`), so the name says what runs and `service uninstall warp join`
 * finds it again.
 */
import { usageError } from "../core/errors.ts";
import { findMode, modeNames, type ModeName } from "../modes/registry.ts";

/**
 * The modes a unit can run (every registered mode), in the order they take in unit names and
 * command lines. Unit names join them with `-`, so a mode's name has none.
 */
export const serviceModes: readonly ModeName[] = modeNames.filter((name) => findMode(name)?.notAService === undefined);
export type ServiceMode = ModeName;

function isServiceMode(name: string): name is ServiceMode {
  return (serviceModes as readonly string[]).includes(name);
}

/**
 * The modes named on the command line, each once, in canonical order: `warp`, `join warp`, or
 * `run warp join` (the `run` of `dockernet run` may be given, as in the command the unit runs).
 */
export function parseServiceModes(words: readonly string[]): ServiceMode[] {
  const names = words[0] === "run" ? words.slice(1) : words;
  const known = `the modes are ${serviceModes.join(", ")}`;
  if (names.length === 0) throw usageError(words.length > 0 ? "run needs at least one mode" : "no mode given", `e.g. dockernet service install warp; ${known}`);
  const seen = new Set<ServiceMode>();
  for (const name of names) {
    const reason = findMode(name)?.notAService;
    if (reason !== undefined) throw usageError(`${name} is not installed as a system service: ${reason}`);
    if (!isServiceMode(name)) throw usageError(`unknown mode ${JSON.stringify(name)}`, known);
    if (seen.has(name)) throw usageError(`mode ${name} given twice`);
    seen.add(name);
  }
  return serviceModes.filter((mode) => seen.has(mode));
}

/** `dockernet-warp`, `dockernet-warp-join`: the name of the `.service` and `.timer` without suffix. */
export function unitName(modes: readonly ServiceMode[]): string {
  return `dockernet-${modes.join("-")}`;
}

/** The modes a unit file name of ours stands for, or undefined for any other file name. */
export function modesOfUnitFile(file: string): ServiceMode[] | undefined {
  const match = /^dockernet-([a-z-]+)\.(service|timer)$/.exec(file);
  const names = match?.[1]?.split("-") ?? [];
  if (names.length === 0 || !names.every(isServiceMode)) return undefined;
  return names.length === new Set(names).size ? names : undefined;
}
