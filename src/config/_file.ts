import { readFile, stat } from "node:fs/promises";
import { parse, TomlError } from "smol-toml";
import { DockernetError, ExitCode, isPermissionError, systemReason } from "../core/errors.ts";
import { unknownKey, type Layer, type Problems } from "./_layers.ts";
import type { ConfigSpec } from "./spec.ts";

export const defaultConfigFile = "/etc/dockernet/config.toml";

/** Which file to read: `--config`, else `$DOCKERNET_CONFIG`, else the default file if it exists. */
export async function locateConfigFile(options: {
  flag?: string;
  env: Record<string, string | undefined>;
  defaultFile: string;
}): Promise<{ path: string; namedBy: string } | undefined> {
  if (options.flag) return { path: options.flag, namedBy: "--config" };
  const fromEnv = options.env.DOCKERNET_CONFIG;
  if (fromEnv) return { path: fromEnv, namedBy: "DOCKERNET_CONFIG" };
  try {
    await stat(options.defaultFile);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
  }
  // It exists (or cannot even be looked at, which reading will report).
  return { path: options.defaultFile, namedBy: "the default location" };
}

/** Read and parse the file into a layer; syntax errors and unknown names go to `problems`. */
export async function readConfigFile(spec: ConfigSpec, file: { path: string; namedBy: string }, problems: Problems): Promise<Layer> {
  const layer: Layer = new Map();
  let text: string;
  try {
    text = await readFile(file.path, "utf8");
  } catch (error) {
    const missing = errorCode(error) === "ENOENT";
    const uid = process.getuid?.();
    const hint = missing
      ? "Check the path, or leave --config and DOCKERNET_CONFIG unset to use defaults."
      : isPermissionError(error)
        ? `Make it readable by the user running dockernet${uid === undefined ? "" : ` (uid ${uid})`}, or run it as root.`
        : undefined;
    throw new DockernetError(
      missing ? `config file ${file.path} does not exist (named by ${file.namedBy})` : `cannot read config file ${file.path} (named by ${file.namedBy}): ${systemReason(error)}`,
      { code: "CONFIG_UNREADABLE", exitCode: ExitCode.usage, cause: error, hint },
    );
  }
  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    problems.lines.push(`${file.path}:${error.line}:${error.column}: invalid TOML: ${reason}`);
    return layer;
  }
  for (const [section, table] of Object.entries(document)) {
    if (!spec.isSection(section)) unknownKey(problems, section, "section", file.path, spec.names);
    else readSection(spec, { section, table, origin: file.path }, layer, problems);
  }
  return layer;
}

/** One `[section]` table into the layer; a table under it that is a block (`[bridge.hetzner]`) is read the same way. */
function readSection(spec: ConfigSpec, given: { section: string; table: unknown; origin: string }, layer: Layer, problems: Problems): void {
  const { section, table, origin } = given;
  if (table === null || typeof table !== "object" || Array.isArray(table) || table instanceof Date) {
    problems.lines.push(`${section}: must be a table [${section}] (from ${origin})`);
    return;
  }
  for (const [key, value] of Object.entries(table)) {
    if (spec.isKey(section, key)) layer.set(`${section}.${key}`, { value, origin });
    else if (spec.isSection(`${section}.${key}`)) readSection(spec, { section: `${section}.${key}`, table: value, origin }, layer, problems);
    else unknownKey(problems, `${section}.${key}`, "key", origin, spec.keysOf(section), spec.blockKeyOf(section, key));
  }
}

function errorCode(error: unknown): string | undefined {
  return error !== null && typeof error === "object" && "code" in error && typeof error.code === "string" ? error.code : undefined;
}
