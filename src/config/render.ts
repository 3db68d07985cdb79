import { stringify } from "smol-toml";
import { flagName } from "./_flags.ts";
import type { ResolvedConfig, Source } from "./load.ts";
import { isSecret, writeValue, type ConfigSpec } from "./spec.ts";

type Written = Record<string, Record<string, unknown>>;

/** The resolved config as TOML a person reads: every key, its value, and where it came from. */
export function renderResolved(spec: ConfigSpec, resolved: ResolvedConfig): string {
  const values = writtenValues(spec, resolved);
  const lines = [`# config file: ${resolved.file ?? "none"}`];
  for (const section of spec.names) {
    lines.push("", `[${section}]`);
    const table = spec.table(values, section);
    for (const key of spec.keysOf(section)) {
      const value = table[key];
      // smol-toml writes the value (quoting, escapes, arrays); the source goes after it as a comment.
      lines.push(`${stringify({ [key]: value }).trimEnd()}  # ${sourceLabel(resolved, section, key)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The same as a plain object for `--json`: values as they would be written in the file. */
export function renderResolvedJson(spec: ConfigSpec, resolved: ResolvedConfig): { file: string | null; values: Written; sources: Record<string, Source> } {
  return { file: resolved.file ?? null, values: writtenValues(spec, resolved), sources: { ...resolved.sources } };
}

/** Durations back to `5m`, rules back to canonical text: what one would write in the file. */
function writtenValues(spec: ConfigSpec, resolved: ResolvedConfig): Written {
  const values: Written = {};
  // Blocks nest in their section, as TOML reads `[bridge.hetzner]`: names come parents first.
  for (const section of spec.names) {
    const dot = section.lastIndexOf(".");
    (dot < 0 ? values : spec.table(values, section.slice(0, dot)))[section.slice(dot + 1)] = {};
  }
  for (const [section, key] of spec.keys()) {
    const value = spec.table(resolved.config, section)[key];
    const schema = spec.schemaOf(section, key);
    // A secret is shown as set or not, never printed: this output is pasted into bug reports.
    spec.table(values, section)[key] = isSecret(schema) && value !== "" ? "(set, not shown)" : writeValue(schema, value);
  }
  return values;
}

function sourceLabel(resolved: ResolvedConfig, section: string, key: string): string {
  const source = resolved.sources[`${section}.${key}`] ?? "default";
  if (source === "env") return `env DOCKERNET_${section.toUpperCase().replaceAll(".", "_")}_${key.toUpperCase()}`;
  if (source === "flag") return `flag ${flagName(section, key)}`;
  if (source === "file") return resolved.file ? `file ${resolved.file}` : "file";
  return source;
}
