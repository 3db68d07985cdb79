/**
 * The files of the container channel: the socket directory, one directory per container (the
 * only part a container gets bind-mounted), its socket and the stable `flow.sock` link.
 */
import { chmod, lstat, mkdir, readdir, rename, rm, symlink } from "node:fs/promises";
import type { Server } from "node:net";
import { Buffer } from "node:buffer";
import { join, resolve } from "node:path";
import { DockernetError, ExitCode } from "../../../core/errors.ts";
import { listenAndMove } from "../../../net/private-socket.ts";

/** The name of a per-container directory: 16 hex characters, random. */
export const dirNamePattern = /^[0-9a-f]{16}$/;
/** The link beside a container's socket that the path inside the container names. */
export const linkName = "flow.sock";
/** A socket is named by the container's short ID: Docker's 12 characters. */
export const shortIdLength = 12;
/** sun_path holds 108 bytes, the terminating NUL included. */
const maxSocketPathBytes = 107;

/** Throws DockernetError (FLOW_SOCKET_DIR, exit code 2) when `socketDir/<16>/<12>.sock` is over 107 bytes. */
export function checkSocketPathLength(socketDir: string): void {
  const dir = resolve(socketDir);
  const longest = join(dir, "0".repeat(16), `${"0".repeat(shortIdLength)}.sock`);
  const bytes = Buffer.byteLength(longest, "utf8");
  if (bytes <= maxSocketPathBytes) return;
  throw new DockernetError(`flow socket directory ${socketDir} is too long: its sockets (${longest}) would be ${bytes} bytes, over the kernel's limit of ${maxSocketPathBytes}`, {
    code: "FLOW_SOCKET_DIR",
    exitCode: ExitCode.usage,
    hint: `choose a socket dir of at most ${maxSocketPathBytes - (bytes - Buffer.byteLength(dir, "utf8"))} bytes with --socket-dir or flow.socket_dir`,
  });
}

function dirError(path: string, problem: string, cause?: unknown): DockernetError {
  return new DockernetError(`flow socket directory ${path} ${problem}`, {
    code: "FLOW_SOCKET_DIR",
    exitCode: ExitCode.runtime,
    hint: "use a directory of its own for flow.socket_dir (--socket-dir), owned by the user that runs dockernet",
    cause,
  });
}

/** Makes `path` a directory of ours with `mode`, refusing anything else found there (a link, someone else's). */
export async function ensureOwnDir(path: string, mode: number, options: { recursive?: boolean } = {}): Promise<void> {
  try {
    await mkdir(path, { mode, recursive: options.recursive ?? false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw dirError(path, "cannot be created", error);
  }
  const stats = await lstat(path);
  if (!stats.isDirectory()) throw dirError(path, "is not a directory");
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) throw dirError(path, `is owned by uid ${stats.uid}, not by this process (uid ${uid})`);
  // mkdir's mode passes through the umask, and an existing directory keeps whatever it had.
  if ((stats.mode & 0o777) !== mode) await chmod(path, mode);
}

/**
 * Listens on `dir/socketName` with mode 0666 (the container may run as any user) and
 * `dir/flow.sock` linking to it. The socket is bound and chmod-ed in `privateDir` (the socket dir,
 * 0700: no container reaches it) and only then renamed into the container's directory, so no
 * path the container can touch is ever chmod-ed (a link put there would be followed). Closes
 * `server` again when a step after listening fails. Resolves with the socket's path.
 */
export async function listenInDir(server: Server, dir: string, socketName: string, privateDir: string): Promise<string> {
  const path = join(dir, socketName);
  const staging = join(privateDir, `.${socketName}.${process.pid}.bind`);
  await rm(staging, { force: true });
  await listenAndMove(server, staging, path, 0o666);
  try {
    await linkSocket(dir, socketName);
  } catch (error) {
    server.close();
    throw error;
  }
  return path;
}

/** Points `dir/flow.sock` at `socketName`, replacing an older link in one step. */
export async function linkSocket(dir: string, socketName: string): Promise<void> {
  const temporary = join(dir, `.${linkName}.${process.pid}`);
  await rm(temporary, { force: true });
  await symlink(socketName, temporary);
  await rename(temporary, join(dir, linkName));
}

/** Removes the directories of `socketDir` named like ours that are not in `keep`; returns their names. */
export async function sweepDirs(socketDir: string, keep: ReadonlySet<string>): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(socketDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names.sort()) {
    if (!dirNamePattern.test(name) || keep.has(name)) continue;
    const path = join(socketDir, name);
    const stats = await lstat(path).catch(() => undefined);
    if (!stats?.isDirectory()) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
