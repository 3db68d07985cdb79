/**
 * Whether a symlink in update_container's tree can lead out of it once in the container. Its
 * target is resolved the way the container's kernel will: component by component, through the
 * other symlinks of the same tree. A lexical check is not enough: with `d -> .`, the target
 * `d/d/../../etc` normalises to `etc` but resolves to two levels above the code directory.
 */
import { posix } from "node:path";

/** Links followed before giving up; the kernel stops at 40 (ELOOP), and a loop leads nowhere. */
const maxHops = 40;

/**
 * True when `target`, the target of the symlink at `path` (both relative to the tree's top),
 * reaches above the top or an absolute path. `links` maps every symlink of the tree (relative
 * path) to its target. A component missing from the tree is taken as a directory, the safe way.
 */
export function leavesTree(links: ReadonlyMap<string, string>, path: string, target: string): boolean {
  const current = posix.dirname(path) === "." ? [] : posix.dirname(path).split("/");
  const pending = target.split("/");
  if (posix.isAbsolute(target)) return true;
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (current.length === 0) return true;
      current.pop();
      continue;
    }
    const next = [...current, part].join("/");
    const link = links.get(next);
    if (link === undefined) {
      current.push(part);
      continue;
    }
    if (posix.isAbsolute(link)) return true;
    if (++hops > maxHops) return false;
    // A relative link resolves from the directory holding it, which is `current`.
    pending.unshift(...link.split("/"));
  }
  return false;
}
