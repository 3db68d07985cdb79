import { realpath } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { FlowError } from "./errors.ts";

/** True when `path` is `base` or lies below it. */
function isUnder(path: string, base: string): boolean {
  return path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);
}

/**
 * The real path of `path` (symlinks and `..` resolved) when it lies under one of `roots` (each
 * resolved the same way); a `forbidden` FlowError naming `field` otherwise. With no roots, every
 * path is refused: the API reaches no host path unless the operator allows some.
 */
export async function underRoots(path: string, roots: readonly string[], field: string, flag: string): Promise<string> {
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
  if (bases.some((base) => isUnder(real, base))) return real;
  // The resolved path is not shown: it could reveal where a symlink leads.
  throw new FlowError("forbidden", `${field}: the path is not under an allowed root (${flag})`, { field });
}
