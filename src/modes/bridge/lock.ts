import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
import { DockernetError, ExitCode } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { controlPath, lockPath } from "./config.ts";

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

/**
 * One bridge per socket path: takes the lock (a PID file beside the socket, created exclusively).
 * A lock whose process is gone, and the socket files it left, are removed first; a live one is
 * refused with its PID. Returns the release function.
 */
export async function takeLock(socket: string, log: Logger): Promise<() => Promise<void>> {
  const file = lockPath(socket);
  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        const owner = Number((await readFile(file, "utf8").catch(() => "")).trim());
        if (owner === process.pid) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
    // A live process holds it, also while it is still starting (its control socket not open yet).
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new DockernetError(`a bridge is already running on ${socket} (PID ${pid})`, {
        code: "BRIDGE_RUNNING",
        exitCode: ExitCode.usage,
        hint: `stop it with \`dockernet bridge stop --socket ${socket}\`, or start another on another --socket`,
      });
    }
    log.info("removing a stale bridge lock", { socket, pid: Number.isInteger(pid) && pid > 0 ? pid : undefined });
    for (const stale of [file, socket, controlPath(socket)]) await rm(stale, { force: true });
  }
  throw new DockernetError(`cannot take the bridge lock ${file}`, { code: "BRIDGE_LOCK" });
}

/** Removes a stale socket file left at `path` (nothing answers on it); refuses to remove anything else. */
export async function clearStaleSocket(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return;
  if (!info.isSocket()) throw new DockernetError(`${path} exists and is not a socket`, { code: "BRIDGE_SOCKET", exitCode: ExitCode.usage, hint: "choose another --socket" });
  if (!(await answers(path))) await rm(path, { force: true });
}
