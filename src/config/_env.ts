import { fromText, unknownKey, type Layer, type Problems } from "./_layers.ts";
import type { ConfigSpec } from "./spec.ts";

const prefix = "DOCKERNET_";
/** Variables of install.sh, which share the prefix but are not config (a mode names its own: ConfigSpec.otherVariables). */
const notConfig = new Set(["DOCKERNET_CONFIG", "DOCKERNET_INSTALL_DIR", "DOCKERNET_DOWNLOAD_URL", "DOCKERNET_UNAME_S", "DOCKERNET_UNAME_M"]);

/** `DOCKERNET_<SECTION>_<KEY>` variables; any other `DOCKERNET_*` name is a problem, but DOCKERNET_CONFIG and install.sh's. */
export function envLayer(spec: ConfigSpec, env: Record<string, string | undefined>, problems: Problems): Layer {
  const layer: Layer = new Map();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(prefix) || notConfig.has(name) || spec.otherVariables.has(name)) continue;
    const origin = `env ${name}`;
    const rest = name.slice(prefix.length);
    const section = sectionOf(spec, rest.toLowerCase());
    const key = rest.slice(section.length + 1).toLowerCase();
    const path = key ? `${section}.${key}` : section || name;
    if (rest !== rest.toUpperCase()) {
      // Names are case-sensitive, as the shell's are: only the upper-case spelling is read.
      problems.lines.push(`${name}: unknown variable, write it in upper case (from ${origin})`);
      problems.unknown = true;
    } else if (!spec.isSection(section)) {
      unknownKey(problems, path, "section", origin, spec.names);
    } else if (!spec.isKey(section, key)) {
      unknownKey(problems, path, "key", origin, spec.keysOf(section), spec.blockKeyOf(section, key));
    } else {
      const raw = fromText(spec, { section, key }, { value, origin }, problems);
      if (raw) layer.set(path, raw);
    }
  }
  return layer;
}

/**
 * The section a variable names after `DOCKERNET_`: the longest section (or block, its dot written
 * `_`: `bridge_hetzner_token` is `[bridge.hetzner]`) it starts with; else the word before the first `_`.
 */
function sectionOf(spec: ConfigSpec, rest: string): string {
  const named = spec.names.filter((name) => rest === name.replaceAll(".", "_") || rest.startsWith(`${name.replaceAll(".", "_")}_`));
  const longest = named.sort((a, b) => b.length - a.length)[0];
  if (longest !== undefined) return longest;
  const split = rest.indexOf("_");
  return split < 0 ? rest : rest.slice(0, split);
}

/** Docker's own DOCKER_HOST, below DOCKERNET_DOCKER_HOST and above the file. Empty means unset, as for the docker CLI. */
export function dockerHostLayer(env: Record<string, string | undefined>): Layer {
  const host = env.DOCKER_HOST;
  return new Map(host ? [["docker.host", { value: host, origin: "env DOCKER_HOST" }]] : []);
}
