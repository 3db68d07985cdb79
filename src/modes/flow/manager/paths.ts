import { realpath } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { DockernetError, ExitCode } from "../../../core/errors.ts";
import { FlowError } from "../protocol/replies.ts";

/** True when `path` is `base` or lies below it. */
function isUnder(path: string, base: string): boolean {
  return path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);
}

/**
 * The real path of `path` (symlinks and `..` resolved) when it lies under one of `roots` (each
 * resolved the same way); a `forbidden` FlowError naming `field` otherwise. With no roots, every
 * path is refused: the API reaches no host path unless the operator allows some.
 *
 * With `childOnly` (volumes) the path must be a direct child of a root, never the root itself nor
 * deeper: Docker resolves a bind source again at every start, so a container that could write
 * to a directory holding another container's source could swap that source for a link to `/`
 * between this check and the other container's next start. Children of a root are siblings; none
 * can reach another, and no container can write the root.
 */
export async function underRoots(path: string, roots: readonly string[], field: string, flag: string, options: { childOnly?: boolean } = {}): Promise<string> {
  if (roots.length === 0) throw new FlowError("forbidden", `${field}: host paths are refused: the server allows none (start it with ${flag} DIR)`, { field });
  const bases = (await Promise.all(roots.map((root) => realpath(root).catch(() => undefined)))).filter((base) => base !== undefined);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    // Whether a path outside the roots exists is not the client's to learn: "no such path" only inside one.
    const inside = [...bases, ...roots.map((root) => resolve(root))].some((base) => isUnder(resolve(path), base));
    if (inside) throw new FlowError("not_found", `${field}: no such path on the host`, { field });
    throw new FlowError("forbidden", `${field}: the path is not under an allowed root (${flag})`, { field });
  }
  if (options.childOnly) {
    if (bases.some((base) => dirname(real) === base)) return real;
    if (bases.some((base) => isUnder(real, base))) throw new FlowError("forbidden", `${field}: a volume must be a directory directly inside an allowed root (${flag}), not the root itself or deeper`, { field });
  } else if (bases.some((base) => isUnder(real, base))) {
    return real;
  }
  // The resolved path is not shown: it could reveal where a symlink leads.
  throw new FlowError("forbidden", `${field}: the path is not under an allowed root (${flag})`, { field });
}

/** Volume roots and code roots must not overlap: a container could write where `update_container` reads. */
export function overlappingRoots(volumeRoots: readonly string[], codeRoots: readonly string[]): [string, string] | undefined {
  for (const volume of volumeRoots.map((root) => resolve(root))) {
    for (const code of codeRoots.map((root) => resolve(root))) if (isUnder(volume, code) || isUnder(code, volume)) return [volume, code];
  }
  return undefined;
}

/** Throws DockernetError (FLOW_ROOTS, exit code 2) when a volume root and a code root overlap. */
export function checkRoots(volumeRoots: readonly string[], codeRoots: readonly string[]): void {
  const overlap = overlappingRoots(volumeRoots, codeRoots);
  if (!overlap) return;
  throw new DockernetError(`the volume root ${overlap[0]} and the code root ${overlap[1]} overlap`, {
    code: "FLOW_ROOTS",
    exitCode: ExitCode.usage,
    hint: "a container could write where update_container reads: give them separate directories",
  });
}

/**
 * The path with every symlink resolved, for a path that may not exist yet: its deepest existing
 * ancestor resolved, the rest appended (a root checked before its directory is made).
 */
export async function resolvedPath(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch (error) {
    const parent = dirname(absolute);
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === absolute) throw error;
    return join(await resolvedPath(parent), basename(absolute));
  }
}

/**
 * {@link checkRoots} on the roots as the kernel will follow them (symlinks resolved), and no root
 * may hold the socket directory or the token file: a container given a volume there, or code
 * read from there, would reach other containers' sockets or the API token.
 */
export async function checkRootsOnDisk(options: { volumeRoots: readonly string[]; codeRoots: readonly string[]; socketDir: string; tokenFile: string }): Promise<void> {
  const volumeRoots = await Promise.all(options.volumeRoots.map(resolvedPath));
  const codeRoots = await Promise.all(options.codeRoots.map(resolvedPath));
  checkRoots(volumeRoots, codeRoots);
  const guarded = [
    { what: "the socket directory", flag: "--socket-dir", path: await resolvedPath(options.socketDir) },
    { what: "the token file", flag: "--token-file", path: await resolvedPath(options.tokenFile) },
  ];
  const roots = [...volumeRoots.map((root, i) => ({ root, given: options.volumeRoots[i], kind: "volume" })), ...codeRoots.map((root, i) => ({ root, given: options.codeRoots[i], kind: "code" }))];
  for (const { root, given, kind } of roots) {
    for (const { what, flag, path } of guarded) {
      if (!isUnder(path, root)) continue;
      throw new DockernetError(`the ${kind} root ${given}${given === root ? "" : ` (${root})`} contains ${what} ${path}`, {
        code: "FLOW_ROOTS",
        exitCode: ExitCode.usage,
        hint: `a container could reach it: move ${what} (${flag}) out of the roots, or choose other roots`,
      });
    }
  }
}
