/**
 * Which modes a unit runs, and the unit names that follow from them. One mode runs as
 * `dockernet <mode>`; several run as `dockernet run <mode>...` in one unit named after all of them
 * (`dockernet-warp-join.service`), so the name says what runs and `service uninstall warp join`
 * finds it again.
 */
import { usageError } from "../core/errors.ts";
import type { ModeDescription } from "../modes/description.ts";

/** A mode a unit can run, by name. */
export type ServiceMode = string;

/**
 * The modes a unit can run: every mode `known` (the registry's, which the command passes in)
 * but those that say why not, in the order they take in unit names and command lines. Unit
 * names join them with `-`, so a mode's name has none.
 */
export function serviceModes(known: readonly ModeDescription[]): ServiceMode[] {
  return known.filter((mode) => mode.notAService === undefined).map((mode) => mode.name);
}

/**
 * The modes named on the command line, each once, in canonical order: `warp`, `join warp`, or
 * `run warp join` (the `run` of `dockernet run` may be given, as in the command the unit runs).
 */
export function parseServiceModes(words: readonly string[], known: readonly ModeDescription[]): ServiceMode[] {
  const names = words[0] === "run" ? words.slice(1) : words;
  const offered = serviceModes(known);
  const listed = `the modes are ${offered.join(", ")}`;
  if (names.length === 0) throw usageError(words.length > 0 ? "run needs at least one mode" : "no mode given", `e.g. dockernet service install warp; ${listed}`);
  const seen = new Set<ServiceMode>();
  for (const name of names) {
    const reason = known.find((mode) => mode.name === name)?.notAService;
    if (reason !== undefined) throw usageError(`${name} is not installed as a system service: ${reason}`);
    if (!offered.includes(name)) throw usageError(`unknown mode ${JSON.stringify(name)}`, listed);
    if (seen.has(name)) throw usageError(`mode ${name} given twice`);
    seen.add(name);
  }
  return offered.filter((mode) => seen.has(mode));
}

/** `dockernet-warp`, `dockernet-warp-join`: the name of the `.service` and `.timer` without suffix. */
export function unitName(modes: readonly ServiceMode[]): string {
  return `dockernet-${modes.join("-")}`;
}

/** The names in a unit file name shaped like ours (`dockernet-warp-join.service`), each once; undefined for any other. */
export function namesOfUnitFile(file: string): string[] | undefined {
  const match = /^dockernet-([a-z-]+)\.(service|timer)$/.exec(file);
  const names = match?.[1]?.split("-") ?? [];
  return names.length > 0 && names.length === new Set(names).size ? names : undefined;
}

/** The modes a unit file name of ours stands for, each one of `offered` (see serviceModes); undefined for any other file name. */
export function modesOfUnitFile(file: string, offered: readonly ServiceMode[]): ServiceMode[] | undefined {
  const names = namesOfUnitFile(file);
  return names?.every((name) => offered.includes(name)) ? names : undefined;
}
