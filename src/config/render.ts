import { flagName } from "./_flags.ts";
import { allKeys, sections } from "./_layers.ts";
import { formatDuration } from "./duration.ts";
import type { ResolvedConfig, Source } from "./load.ts";
import { formatRouteRule, type RouteRule } from "./route-rule.ts";
import type { Section } from "./schema.ts";

/** The resolved config as TOML a person reads: every key, its value, and where it came from. */
export function renderResolved(resolved: ResolvedConfig): string {
  const values = writtenValues(resolved);
  const lines = [`# config file: ${resolved.file ?? "none"}`];
  for (const section of sections) {
    lines.push("", `[${section}]`);
    for (const [key, value] of Object.entries(values[section])) {
      lines.push(`${key} = ${toml(value)}  # ${sourceLabel(resolved, section, key)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The same as a plain object for `--json`: values as they would be written in the file. */
export function renderResolvedJson(resolved: ResolvedConfig): {
  file: string | null;
  values: Record<Section, Record<string, unknown>>;
  sources: Record<string, Source>;
} {
  return { file: resolved.file ?? null, values: writtenValues(resolved), sources: { ...resolved.sources } };
}

/** Durations back to `5m`, rules back to canonical text: what one would write in the file. */
function writtenValues(resolved: ResolvedConfig): Record<Section, Record<string, unknown>> {
  const values = Object.fromEntries(sections.map((section) => [section, {}])) as Record<Section, Record<string, unknown>>;
  for (const [section, key] of allKeys()) {
    const value = (resolved.config[section] as Record<string, unknown>)[key];
    values[section][key] =
      key.endsWith("_interval") && typeof value === "number"
        ? formatDuration(value)
        : key === "routes"
          ? (value as RouteRule[]).map(formatRouteRule)
          : value;
  }
  return values;
}

/** JSON strings are valid TOML basic strings for what the schemas let through (no control characters). */
function toml(value: unknown): string {
  return Array.isArray(value) ? `[${value.map((item) => JSON.stringify(item)).join(", ")}]` : JSON.stringify(value);
}

function sourceLabel(resolved: ResolvedConfig, section: Section, key: string): string {
  const source = resolved.sources[`${section}.${key}`] ?? "default";
  if (source === "env") return `env DOCKERNET_${section.toUpperCase()}_${key.toUpperCase()}`;
  if (source === "flag") return `flag ${flagName(section, key)}`;
  if (source === "file") return resolved.file ? `file ${resolved.file}` : "file";
  return source;
}
