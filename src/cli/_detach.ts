import { spawn } from "node:child_process";
import { mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { DockernetError, ExitCode } from "../core/errors.ts";
import { selfCommand } from "../core/runtime.ts";

/**
 * Copies to stderr what the background process writes to its log from `offset` on, as it comes:
 * until it serves, its output (`connecting to host:port`, a refused host key with its fingerprint
 * and hint) is the user's to see, not hidden in the log.
 */
function logEcho(logFile: string, offset: number): () => Promise<void> {
  let at = offset;
  return async () => {
    const file = await open(logFile, "r");
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) return;
        at += bytesRead;
        process.stderr.write(buffer.subarray(0, bytesRead));
      }
    } finally {
      await file.close();
    }
  };
}

/**
 * Starts this same command line again without `--detach` (all of it: citty's rawArgs lack the
 * command words), in its own session with its output going to `logFile`, and resolves with its
 * PID once `ready(pid)` holds, i.e. that very process serves (or rejects when it exits first or is
 * not ready within `timeoutMs`, naming the log file). Meanwhile its output is shown on stderr too.
 */
export async function detach(logFile: string, ready: (pid: number) => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
  const args = process.argv.slice(2).filter((arg) => arg !== "--detach");
  await mkdir(dirname(logFile), { recursive: true, mode: 0o700 });
  const log = await open(logFile, "a", 0o600);
  const echo = logEcho(logFile, (await stat(logFile)).size);
  const [command, commandArgs] = selfCommand(args);
  const child = spawn(command, commandArgs, { detached: true, stdio: ["ignore", log.fd, log.fd] });
  await log.close();
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await echo();
    if (exited !== undefined) {
      await echo();
      // Its own exit code: a usage error of the background process (2) is one of this command too.
      throw new DockernetError(`the background process exited (code ${exited}) before it was ready: its output is above, and in ${logFile}`, {
        code: "DETACH_FAILED",
        exitCode: exited === ExitCode.usage ? ExitCode.usage : ExitCode.runtime,
      });
    }
    if (child.pid !== undefined && (await ready(child.pid))) {
      await echo();
      child.unref();
      return child.pid ?? 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGTERM");
  await echo();
  throw new DockernetError(`the background process was not ready within ${timeoutMs / 1000} s: its output is above, and in ${logFile}`, { code: "DETACH_FAILED" });
}
