import * as v from "valibot";
import { DockernetError, ExitCode } from "../core/errors.ts";
import { dockerHostLayer, envLayer } from "./_env.ts";
import { defaultConfigFile, locateConfigFile, readConfigFile } from "./_file.ts";
import { flagLayer, type FlagValues } from "./_flags.ts";
import type { Layer, Problems } from "./_layers.ts";
import type { ConfigOf, ConfigSections, ConfigSpec } from "./spec.ts";

export type { FlagValues } from "./_flags.ts";

/** Where a resolved value came from. */
export type Source = "default" | "file" | "env" | "flag" | "env DOCKER_HOST";

export interface LoadOptions {
  /** `--config FILE`; else `$DOCKERNET_CONFIG`; else the default file if present. */
  file?: string;
  /** Default: process.env. */
  env?: Record<string, string | undefined>;
  flags?: FlagValues;
  /** The file read when none is named. Default `/etc/dockernet/config.toml`; tests point it elsewhere. */
  defaultFile?: string;
}

export interface ResolvedConfig<C = Record<string, Record<string, unknown>>> {
  config: C;
  /** Keyed `section.key`, e.g. `warp.routes`. */
  sources: Record<string, Source>;
  /** The file read, if any. */
  file?: string;
}

/**
 * Resolve the config: flag > env `DOCKERNET_<SECTION>_<KEY>` > file `[section]` > default
 * (for docker.host, DOCKER_HOST sits between DOCKERNET_DOCKER_HOST and the file).
 * Every value given is validated, also those a higher layer overrides, so that a broken file is
 * reported even while a flag hides it. All problems are thrown together as one CONFIG_INVALID.
 */
export async function loadConfig<T extends ConfigSections>(spec: ConfigSpec<T>, options: LoadOptions = {}): Promise<ResolvedConfig<ConfigOf<T>>> {
  const env = options.env ?? process.env;
  const problems: Problems = { lines: [], unknown: false };
  const file = await locateConfigFile({ flag: options.file, env, defaultFile: options.defaultFile ?? defaultConfigFile });
  const layers: [Source, Layer][] = [
    ["flag", flagLayer(spec, options.flags ?? {}, problems)],
    ["env", envLayer(spec, env, problems)],
    ["env DOCKER_HOST", dockerHostLayer(env)],
    ["file", file ? await readConfigFile(spec, file, problems) : new Map()],
  ];
  const config = spec.defaults();
  const sources: Record<string, Source> = {};
  for (const [section, key] of spec.keys()) {
    const path = `${section}.${key}`;
    const schema = spec.schemaOf(section, key);
    sources[path] = "default";
    let resolved = false;
    for (const [source, layer] of layers) {
      const raw = layer.get(path);
      if (raw === undefined || schema === undefined) continue;
      const result = v.safeParse(schema, raw.value, { abortPipeEarly: true });
      if (!result.success) {
        for (const issue of result.issues) problems.lines.push(`${path}${issuePath(issue)}: ${issue.message} (from ${raw.origin})`);
      } else if (!resolved) {
        spec.table(config, section)[key] = result.output;
        sources[path] = source;
      }
      resolved = true;
    }
  }
  if (problems.lines.length > 0) throw invalid(spec, problems);
  return { config, sources, ...(file ? { file: file.path } : {}) };
}

function issuePath(issue: v.BaseIssue<unknown>): string {
  return (issue.path ?? []).map((item) => (typeof item.key === "number" ? `[${item.key}]` : `.${String(item.key)}`)).join("");
}

function invalid(spec: ConfigSpec, problems: Problems): DockernetError {
  // Only the sections that had an unknown key, one line each; an unknown section lists the sections.
  const sections = [...(problems.unknownIn ?? [])];
  const known = sections.length > 0 ? sections.map((section) => `  [${section}] ${spec.keysOf(section).join(", ")}`) : [`  sections: ${spec.names.join(", ")}`];
  return new DockernetError(`invalid configuration:\n${problems.lines.map((line) => `  ${line}`).join("\n")}`, {
    code: "CONFIG_INVALID",
    exitCode: ExitCode.usage,
    details: problems.lines,
    hint: problems.unknown
      ? `Known keys:\n${known.join("\n")}\nIn env they are DOCKERNET_<SECTION>_<KEY>, e.g. DOCKERNET_WARP_ROUTES.`
      : "Each line names the key, what is wrong, and where the value came from.",
  });
}
