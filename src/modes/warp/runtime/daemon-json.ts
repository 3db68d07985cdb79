/**
 * The `runtimes` entry of Docker's daemon.json that makes dockernet an OCI runtime, added and
 * taken out with every other key kept as it was. Pure: text in, text out.
 */
import { usageError } from "../../../core/errors.ts";

/** The runtime's name in Docker (`docker run --runtime dockernet`, compose `runtime: dockernet`). */
export const runtimeName = "dockernet";

/** A `runtimes` entry: the program and the words before runc's (Docker ≥ 19.03 passes `runtimeArgs`). */
export interface RuntimeEntry {
  path: string;
  runtimeArgs: string[];
}

type DaemonJson = Record<string, unknown>;

/** Parses daemon.json; an empty or missing file is `{}`. Throws a usage error naming the file. */
export function parseDaemonJson(text: string | undefined, file: string): DaemonJson {
  if (text === undefined || text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`${file} is not valid JSON: ${(error as Error).message}`, "fix it first: dockerd refuses to start with it too");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw usageError(`${file} is not a JSON object`);
  const runtimes = (parsed as DaemonJson).runtimes;
  if (runtimes !== undefined && (typeof runtimes !== "object" || runtimes === null || Array.isArray(runtimes))) {
    throw usageError(`${file}: "runtimes" is not an object (got ${JSON.stringify(runtimes)})`);
  }
  return parsed as DaemonJson;
}

/**
 * Docker writes a runtime with args as a script, `#!/bin/sh\n<path> <args joined by spaces> $@`
 * (moby's daemon/runtime_unix.go since 20.10, `wrapRuntime` in later ones): nothing quoted, so
 * a word with a blank or a shell character would be split or read by that shell. (runc's own
 * arguments go through `$@` unquoted too: harmless for the ids and paths containerd passes. And
 * without `exec`, the shell stays the shim's child, so the shim's signals reach it, not dockernet.)
 */
export function checkEntry(entry: RuntimeEntry): void {
  for (const word of [entry.path, ...entry.runtimeArgs]) {
    if (!/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) {
      throw usageError(`cannot put ${JSON.stringify(word)} in a runtime entry`, "Docker runs runtimeArgs through a shell script unquoted: use paths and URLs without blanks or shell characters");
    }
  }
}

/**
 * daemon.json with dockernet's runtime (and, with `makeDefault`, as `default-runtime`). Refuses to
 * replace another default runtime (nvidia's...): its containers would run under plain runc,
 * without its hooks, and uninstall could not give it back.
 */
export function withRuntime(json: DaemonJson, entry: RuntimeEntry, options: { makeDefault: boolean }): DaemonJson {
  checkEntry(entry);
  const current = json["default-runtime"];
  if (options.makeDefault && current !== undefined && current !== "runc" && current !== runtimeName) {
    throw usageError(
      `default-runtime is ${JSON.stringify(current)}: --default would replace it, and its containers would run under plain runc`,
      "leave out --default (docker run --runtime dockernet per target), or set warp.runc to that runtime's program, take default-runtime out of daemon.json and install --default again",
    );
  }
  const runtimes = { ...((json.runtimes as DaemonJson | undefined) ?? {}), [runtimeName]: { path: entry.path, runtimeArgs: entry.runtimeArgs } };
  const next: DaemonJson = { ...json, runtimes };
  if (options.makeDefault) next["default-runtime"] = runtimeName;
  return next;
}

/** daemon.json without dockernet's runtime; `default-runtime` goes too when it named it (Docker's default is runc). */
export function withoutRuntime(json: DaemonJson): DaemonJson {
  const next: DaemonJson = { ...json };
  const { [runtimeName]: _ours, ...others } = (json.runtimes as DaemonJson | undefined) ?? {};
  if (Object.keys(others).length > 0) next.runtimes = others;
  else delete next.runtimes;
  if (next["default-runtime"] === runtimeName) delete next["default-runtime"];
  return next;
}

/** The text written back: two-space JSON and a final newline. */
export function renderDaemonJson(json: DaemonJson): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** What changes between two versions, one line per top-level key (`--dry-run`). */
export function describeChange(before: DaemonJson, after: DaemonJson): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.flatMap((key) => {
    const was = JSON.stringify(before[key]);
    const now = JSON.stringify(after[key]);
    if (was === now) return [];
    return [`${key}: ${was ?? "(absent)"} -> ${now ?? "(absent)"}`];
  });
}
