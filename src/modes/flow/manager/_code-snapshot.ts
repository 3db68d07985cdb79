/**
 * update_container's source tree, read whole into memory before anything is sent, so that a tree
 * that cannot be copied changes nothing. Every entry is reached through the file descriptor of
 * its parent directory (`/proc/self/fd/N/name`, the last component never followed): a directory
 * or file swapped for a symlink after the roots were checked cannot lead the copy elsewhere.
 */
import { Buffer } from "node:buffer";
import { constants } from "node:fs";
import { lstat, open, readdir, readlink, type FileHandle } from "node:fs/promises";
import { posix } from "node:path";
import { FlowError } from "../protocol/replies.ts";
import { leavesTree } from "./_link-escape.ts";
import type { TarEntry } from "./_tar.ts";

/** The most update_container copies at once (the tree is held in memory while it is sent). */
export const maxCodeBytes = 256 * 1024 * 1024;
/** The most entries it copies: each costs a 512-byte tar header and memory however small it is. */
export const maxCodeEntries = 100_000;

const refuse = (path: string, why: string) => new FlowError("validation_error", `code_path: ${path === "" ? "the directory" : path} ${why}; nothing was changed`, { field: "code_path", path });

/** setuid and setgid bits never reach the container: its owner is rewritten, the bits would be root's. */
const keptModeBits = 0o1777;

/** The directory a descriptor refers to now, as the kernel names it. */
async function whereIs(handle: FileHandle): Promise<string> {
  return await readlink(`/proc/self/fd/${handle.fd}`);
}

/**
 * The tree under `source` (a real path, already checked to lie under a root) as tar entries with
 * paths relative to it. Refused with a `validation_error` naming the entry: a special file (FIFO,
 * socket, device), an unreadable file, a symlink leading out of the tree, more than
 * {@link maxCodeBytes} or {@link maxCodeEntries}, or an entry that changed while it was read.
 */
export async function snapshotTree(source: string, isAllowed: (real: string) => boolean, bounds = { bytes: maxCodeBytes, entries: maxCodeEntries }): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  let total = 0;
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW;

  const walk = async (dir: FileHandle, relative: string): Promise<void> => {
    const names = (await readdir(`/proc/self/fd/${dir.fd}`)).sort();
    for (const name of names) {
      const path = relative === "" ? name : `${relative}/${name}`;
      if (entries.length >= bounds.entries) throw refuse(path, `takes the tree over ${bounds.entries} entries`);
      const at = `/proc/self/fd/${dir.fd}/${name}`;
      const stats = await lstat(at).catch(() => undefined);
      if (!stats) throw refuse(path, "went away while it was read");
      if (stats.isSymbolicLink()) {
        const target = await readlink(at);
        if (posix.isAbsolute(target)) throw refuse(path, "is a symlink leading out of the code directory");
        entries.push({ type: "symlink", path, target });
        continue;
      }
      if (!stats.isDirectory() && !stats.isFile()) throw refuse(path, "is a special file (FIFO, socket or device)");
      let handle: FileHandle;
      try {
        // O_NONBLOCK: a FIFO swapped in after the lstat must not hang the open.
        handle = await open(at, flags | constants.O_NONBLOCK | (stats.isDirectory() ? constants.O_DIRECTORY : 0));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw refuse(path, code === "EACCES" || code === "EPERM" ? "is not readable" : `cannot be opened (${code ?? "error"}): it changed while it was read`);
      }
      try {
        const opened = await handle.stat();
        if (opened.ino !== stats.ino || opened.dev !== stats.dev || opened.isDirectory() !== stats.isDirectory() || (!opened.isDirectory() && !opened.isFile())) throw refuse(path, "changed while it was read");
        const mode = opened.mode & keptModeBits;
        if (opened.isDirectory()) {
          entries.push({ type: "directory", path, mode });
          await walk(handle, path);
          continue;
        }
        total += opened.size;
        if (total > bounds.bytes) throw refuse(path, `takes the tree over ${bounds.bytes} bytes`);
        const content = await handle.readFile().catch(() => undefined);
        if (content === undefined) throw refuse(path, "is not readable");
        entries.push({ type: "file", path, mode, content: Buffer.from(content) });
      } finally {
        await handle.close();
      }
    }
  };

  let top: FileHandle;
  try {
    top = await open(source, flags | constants.O_DIRECTORY);
  } catch (error) {
    throw refuse("", `cannot be opened as a directory (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    // The check resolved `source`; what was opened must still be under a root.
    if (!isAllowed(await whereIs(top))) throw refuse("", "changed after it was checked");
    await walk(top, "");
  } finally {
    await top.close();
  }
  // Checked once the whole tree is known: a link may lead out through another link.
  const links = new Map(entries.flatMap((entry) => (entry.type === "symlink" ? [[entry.path, entry.target] as const] : [])));
  for (const [path, target] of links) if (leavesTree(links, path, target)) throw refuse(path, "is a symlink leading out of the code directory");
  return entries;
}
