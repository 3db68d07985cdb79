/**
 * The whole config: the sections every command shares plus each registered mode's own. Its type
 * is derived from the schemas; nothing here names a mode.
 */
import { loadConfig as loadWith, type LoadOptions, type ResolvedConfig } from "../config/load.ts";
import { globalSections } from "../config/schema.ts";
import { ConfigSpec, type ConfigOf } from "../config/spec.ts";
import { modes } from "./registry.ts";

type Modes = (typeof modes)[number];
type Sections = typeof globalSections & { [M in Modes as M["name"]]: M["config"] };

/** Every section: `[log]`, `[docker]`, `[metrics]`, then one per mode, in registry order. */
export const configSpec = new ConfigSpec({ ...globalSections, ...Object.fromEntries(modes.map((mode) => [mode.name, mode.config])) } as Sections, {
  otherVariables: modes.flatMap((mode) => mode.otherVariables ?? []),
});

/** The resolved configuration every command reads. Durations are milliseconds. */
export type Config = ConfigOf<Sections>;

/** The value of every key when nothing sets it. */
export const defaults: Config = configSpec.defaults();

/** Resolves the config of all sections (see config/load.ts for precedence). */
export function loadConfig(options: LoadOptions = {}): Promise<ResolvedConfig<Config>> {
  return loadWith(configSpec, options);
}
