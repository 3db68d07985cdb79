import { parse } from "smol-toml";
import { quote } from "./_quote.ts";
import { closest } from "./_suggest.ts";
import type { ConfigSpec } from "./spec.ts";

/** A raw value from one source, before validation. `origin` ends up in messages: `(from ORIGIN)`. */
export interface RawValue {
  value: unknown;
  origin: string;
}

/** Raw values of one source, keyed `section.key`. */
export type Layer = Map<string, RawValue>;

/** Problems found so far, one line each, all thrown together at the end. */
export interface Problems {
  lines: string[];
  /** Some key or section was unknown: the error then lists the known ones. */
  unknown: boolean;
  /** The known sections that had an unknown key: the hint lists only their keys. */
  unknownIn?: Set<string>;
}

/**
 * Records an unknown key (of a known section) or section, with "did you mean" when one of `known`
 * (the section's keys, or the section names) is a likely typo of it, or `movedTo` when the key
 * belongs to a block of the section (`bridge.token` is `bridge.hetzner.token`).
 */
export function unknownKey(problems: Problems, path: string, what: "key" | "section", origin: string, known: readonly string[] = [], movedTo?: string): void {
  // A key's section is all before its last dot (`bridge.hetzner.token`); a section is its first word.
  const dot = what === "key" ? path.lastIndexOf(".") : path.indexOf(".");
  const name = what === "key" ? path.slice(dot + 1) : dot < 0 ? path : path.slice(0, dot);
  const guess = movedTo ?? (name === "" ? undefined : closest(name, known));
  problems.lines.push(`${path}: unknown ${what}${guess === undefined ? "" : `, did you mean ${guess}?`} (from ${origin})`);
  problems.unknown = true;
  if (what === "key") (problems.unknownIn ??= new Set()).add(path.slice(0, dot < 0 ? path.length : dot));
}

/**
 * Env and flag values are strings: a list-typed key takes `a, b` (items trimmed, empties dropped)
 * or a TOML array `["a", "b"]`. Returns undefined (and records why) when the TOML array is broken.
 */
export function fromText(spec: ConfigSpec, path: { section: string; key: string }, raw: RawValue, problems: Problems): RawValue | undefined {
  const { section, key } = path;
  const { value } = raw;
  if (typeof value !== "string" || !Array.isArray(spec.defaultOf(section, key))) return raw;
  if (!value.trimStart().startsWith("[")) {
    return { ...raw, value: value.split(",").map((item) => item.trim()).filter((item) => item !== "") };
  }
  try {
    const table = parse(`v = ${value}`);
    if (Object.keys(table).length === 1 && Array.isArray(table.v)) return { ...raw, value: table.v };
    problems.lines.push(`${section}.${key}: ${quote(value)} is not one TOML array (from ${raw.origin})`);
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "") : "";
    problems.lines.push(`${section}.${key}: ${quote(value)} is not a TOML array: ${reason} (from ${raw.origin})`);
  }
  return undefined;
}
