import { chmod, lstat, mkdtemp, rename, rm } from "node:fs/promises";
import type { Server } from "node:net";
import { basename, dirname, join } from "node:path";
import { DockernetError, ExitCode } from "../core/errors.ts";

/**
 * Refuses a socket's directory that other users can write without the sticky bit: any of them
 * could rename our socket away and put their own in its place. (With the sticky bit, as /tmp has,
 * only the owner may rename or remove a file there.)
 */
export async function checkSocketDir(path: string, what: string): Promise<void> {
  const dir = dirname(path);
  const stats = await lstat(dir);
  if ((stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0) {
    throw new DockernetError(`the directory ${dir} of ${what} ${path} is writable by others (mode ${(stats.mode & 0o7777).toString(8).padStart(4, "0")}) without the sticky bit`, {
      code: "SOCKET_DIR_UNSAFE",
      exitCode: ExitCode.usage,
      hint: `another user could swap the socket there: use a directory only you can write (chmod go-w ${dir}, or chmod +t ${dir})`,
    });
  }
}

/**
 * Listens on the Unix socket `staging`, sets its `mode` there, then renames it to `path` (one step,
 * replacing a stale socket of that name), so the socket is never reachable at `path` with other
 * permissions. `staging` must be somewhere only we can reach, on `path`'s file system. `server`
 * is closed (and `staging` removed) again when a step after listening fails.
 */
export async function listenAndMove(server: Server, staging: string, path: string, mode: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(staging, () => {
      server.off("error", reject);
      resolve();
    });
  });
  try {
    await chmod(staging, mode);
    await rename(staging, path);
  } catch (error) {
    server.close();
    await rm(staging, { force: true });
    throw error;
  }
}

/**
 * Listens on the Unix socket `path` so that it is never connectable by another user, whatever the
 * umask: bound in a fresh 0700 directory beside it (the same file system, so the rename is one
 * step), chmod-ed 0600 there, then renamed into place. The caller removes `path` after closing the
 * server (the runtime unlinks only the path it bound).
 */
export async function listenPrivately(server: Server, path: string, what: string): Promise<void> {
  await checkSocketDir(path, what);
  // mkdtemp makes the directory 0700 (a umask can only take bits away).
  const staging = await mkdtemp(join(dirname(path), `.${basename(path)}.bind-`));
  try {
    await listenAndMove(server, join(staging, "s"), path, 0o600);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
