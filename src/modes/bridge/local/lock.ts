import { randomBytes } from "node:crypto";
import { link, lstat, mkdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
import { sleep } from "../../../core/backoff.ts";
import { DockernetError, ExitCode } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { controlPath, lockPath } from "../config.ts";

/** A lock younger than this is a bridge that is starting (its control socket not open yet). */
const FRESH_MS = 30_000;
/** How often a held lock is touched, so that it stays fresh for as long as its bridge runs. */
const HEARTBEAT_MS = 10_000;
/** An empty or unreadable lock is looked at again this many times, this far apart, before giving up. */
const UNREADABLE_TRIES = 10;
const UNREADABLE_RETRY_MS = 100;

/** Locks this process holds (a PID alone cannot tell this process's lock from an earlier process's). */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but is someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether something answers on a Unix socket (a bridge that is really running). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The PID in a lock file's text, or undefined when it has none (empty, half written, garbage). */
function parsePid(text: string): number | undefined {
  const pid = Number(text.trim());
  return /^\d+\s*$/.test(text.trim()) && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** The lock's holder and when it last touched it, or undefined when there is no lock file now. */
async function readLock(file: string): Promise<{ pid: number | undefined; touchedMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return { pid: parsePid(text), touchedMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Whether `pid` still holds the lock: the process is alive AND it looks like a bridge (its control
 * socket answers, it touched the lock lately, or its command line names dockernet). A PID alone is
 * not enough: after a crash and a reboot the PID may belong to any process.
 */
async function holds(pid: number, touchedMs: number, file: string, socket: string): Promise<boolean> {
  if (pid === process.pid) return held.has(file);
  if (!alive(pid)) return false;
  if (Date.now() - touchedMs < FRESH_MS) return true;
  if (await answers(controlPath(socket))) return true;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmdline.includes("dockernet");
}

/**
 * Moves the stale lock of `pid` out of the way. The lock is renamed aside and its content checked
 * there: when two starters find the same stale lock, the second one's rename may catch the
 * first one's fresh lock, which it then puts back instead of deleting.
 */
async function removeStale(file: string, pid: number): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    if (parsePid(await readFile(aside, "utf8").catch(() => "")) === pid) return;
    await link(aside, file).catch((error: NodeJS.ErrnoException) => {
      // Only with a third starter: it linked its lock in the moment the path was free.
      if (error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(aside, { force: true });
  }
}

/** Removes what a dead bridge left at `path`: a socket nothing answers on, never any other file. */
async function removeDeadSocket(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (info?.isSocket() && !(await answers(path))) await rm(path, { force: true });
}

/**
 * One bridge per socket path: takes the lock (a PID file beside the socket). The file is written
 * under a temporary name and hard-linked to the lock's name, so it never exists without its PID
 * and exactly one of two starters gets it. A lock whose holder is gone (or whose PID now belongs
 * to a process that is no bridge) is removed, with the sockets it left; a live one is refused with
 * its PID. While held, the lock is touched every `heartbeatMs` (10 s), which tells a bridge that is
 * still starting from a reused PID. Returns the release function.
 */
export async function takeLock(socket: string, log: Logger, options: { heartbeatMs?: number } = {}): Promise<() => Promise<void>> {
  const file = lockPath(socket);
  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  const temporary = `${file}.new-${process.pid}-${randomBytes(4).toString("hex")}`;
  await writeFile(temporary, `${process.pid}\n`, { mode: 0o600, flag: "wx" });
  try {
    await acquire(file, socket, temporary, log);
  } finally {
    await rm(temporary, { force: true });
  }
  held.add(file);
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => {});
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref?.();
  return async () => {
    clearInterval(heartbeat);
    held.delete(file);
    if (parsePid(await readFile(file, "utf8").catch(() => "")) === process.pid) await rm(file, { force: true });
  };
}

async function acquire(file: string, socket: string, temporary: string, log: Logger): Promise<void> {
  let unreadable = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await link(temporary, file);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const lock = await readLock(file);
    if (lock === undefined) continue; // released meanwhile
    if (lock.pid === undefined) {
      // Not written by this version (its locks never exist without their PID): an older bridge
      // that is writing it right now, or a file damaged by hand. Never taken for stale.
      if (++unreadable >= UNREADABLE_TRIES) {
        throw new DockernetError(`the bridge lock ${file} holds no PID`, {
          code: "BRIDGE_LOCK_UNREADABLE",
          hint: `if no bridge is starting on ${socket}, remove ${file}`,
        });
      }
      await sleep(UNREADABLE_RETRY_MS);
      continue;
    }
    if (await holds(lock.pid, lock.touchedMs, file, socket)) {
      throw new DockernetError(`a bridge is already running on ${socket} (PID ${lock.pid})`, {
        code: "BRIDGE_RUNNING",
        exitCode: ExitCode.usage,
        hint: `stop it with \`dockernet bridge stop --socket ${socket}\`, or start another on another --socket`,
      });
    }
    log.info("removing a stale bridge lock", { socket, pid: lock.pid, ...(alive(lock.pid) ? { reason: "the PID belongs to another process now" } : {}) });
    await removeStale(file, lock.pid);
    for (const stale of [socket, controlPath(socket)]) await removeDeadSocket(stale);
  }
  throw new DockernetError(`cannot take the bridge lock ${file}: it keeps changing`, { code: "BRIDGE_LOCK", hint: "another bridge may be starting and stopping on the same --socket" });
}

/** Removes a stale socket file left at `path` (nothing answers on it); refuses to remove anything else. */
export async function clearStaleSocket(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return;
  if (!info.isSocket()) throw new DockernetError(`${path} exists and is not a socket`, { code: "BRIDGE_SOCKET", exitCode: ExitCode.usage, hint: "choose another --socket" });
  if (!(await answers(path))) await rm(path, { force: true });
}
