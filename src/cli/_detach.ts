import { spawn } from "node:child_process";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { DockernetError } from "../core/errors.ts";
import { selfCommand } from "../core/runtime.ts";

/**
 * Starts this same command line again without `--detach` (all of it: citty's rawArgs lack the
 * command words), in its own session with its output going to `logFile`, and resolves with its
 * PID once `ready(pid)` holds, i.e. that very process serves (or rejects when it exits first or is
 * not ready within `timeoutMs`, naming the log file).
 */
export async function detach(logFile: string, ready: (pid: number) => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
  const args = process.argv.slice(2).filter((arg) => arg !== "--detach");
  await mkdir(dirname(logFile), { recursive: true, mode: 0o700 });
  const log = await open(logFile, "a", 0o600);
  const [command, commandArgs] = selfCommand(args);
  const child = spawn(command, commandArgs, { detached: true, stdio: ["ignore", log.fd, log.fd] });
  await log.close();
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new DockernetError(`the background process exited (code ${exited}) before it was ready; see ${logFile}`, { code: "DETACH_FAILED" });
    if (child.pid !== undefined && (await ready(child.pid))) {
      child.unref();
      return child.pid ?? 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGTERM");
  throw new DockernetError(`the background process was not ready within ${timeoutMs / 1000} s; see ${logFile}`, { code: "DETACH_FAILED" });
}
