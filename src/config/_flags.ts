import { fromText, unknownKey, type Layer, type Problems } from "./_layers.ts";
import type { ConfigSpec } from "./spec.ts";

/** Flag values by section, in raw form (strings, booleans, arrays); undefined means not given. */
export type FlagValues = Partial<Record<string, Record<string, unknown>>>;

/** The flag a key is set by: the global ones carry their section (`--log-level`), mode flags do not (`--container-name`). */
export function flagName(section: string, key: string): string {
  const dashed = key.replaceAll("_", "-");
  return section === "log" || section === "docker" || section === "metrics" ? `--${section}-${dashed}` : `--${dashed}`;
}

export function flagLayer(spec: ConfigSpec, flags: FlagValues, problems: Problems): Layer {
  const layer: Layer = new Map();
  for (const [section, values] of Object.entries(flags)) {
    for (const [key, value] of Object.entries(values ?? {})) {
      if (value === undefined) continue;
      const origin = `flag ${flagName(section, key)}`;
      if (!spec.isSection(section)) unknownKey(problems, `${section}.${key}`, "section", origin, spec.names);
      else if (!spec.isKey(section, key)) unknownKey(problems, `${section}.${key}`, "key", origin, spec.keysOf(section), spec.blockKeyOf(section, key));
      else {
        const raw = fromText(spec, { section, key }, { value, origin }, problems);
        if (raw) layer.set(`${section}.${key}`, raw);
      }
    }
  }
  return layer;
}
