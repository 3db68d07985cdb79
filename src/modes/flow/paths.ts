import { realpath } from "node:fs/promises";
import { sep } from "node:path";
import { FlowError } from "./errors.ts";

/**
 * The real path of `path` (symlinks and `..` resolved) when it lies under one of `roots` (each
 * resolved the same way); a `forbidden` FlowError naming `field` otherwise. With no roots, every
 * path is refused: the API reaches no host path unless the operator allows some.
 */
export async function underRoots(path: string, roots: readonly string[], field: string, flag: string): Promise<string> {
  if (roots.length === 0) throw new FlowError("forbidden", `${field}: host paths are refused: the server allows none (start it with ${flag} DIR)`, { field });
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new FlowError("not_found", `${field}: no such path on the host`, { field });
  }
  for (const root of roots) {
    const base = await realpath(root).catch(() => undefined);
    if (base !== undefined && (real === base || real.startsWith(base.endsWith(sep) ? base : base + sep))) return real;
  }
  // The resolved path is not shown: it could reveal where a symlink leads.
  throw new FlowError("forbidden", `${field}: the path is not under an allowed root (${flag})`, { field });
}
