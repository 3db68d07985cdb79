/**
 * Tiny process helpers for the test engine: run a command from an argument array (never a
 * shell), collect its output, and optionally fail with the command line and stderr folded in.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { access, constants as fsConstants, readFile } from "node:fs/promises";
import { join } from "node:path";

/** What a finished command printed and how it exited. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Options for {@link exec}. */
export interface ExecOptions {
  /** Written to the command's stdin (which is closed afterwards). */
  input?: string | Uint8Array;
  /** Return a non-zero exit instead of throwing. */
  allowFail?: boolean;
  /** The whole environment for the command; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) after this many milliseconds; default 120 s. */
  timeoutMs?: number;
}

/** Runs `file args...` and resolves with its output; throws on a non-zero exit unless allowFail. */
export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const { input, allowFail = false, env, timeoutMs = 120_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: env ?? process.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${file}: ${error.message}`, { cause: error }));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        code: code ?? 128 + (signal ? constants.signals[signal] : 0),
      };
      if (result.code !== 0 && !allowFail) {
        const how = signal ? `killed by ${signal}` : `exit ${result.code}`;
        const detail = (result.stderr.trim() || result.stdout.trim()).slice(-2000);
        reject(new Error(`${[file, ...args].join(" ")} failed (${how}): ${detail}`));
      } else {
        resolve(result);
      }
    });
    if (child.stdin) {
      child.stdin.on("error", () => {}); // the command may exit without reading everything
      child.stdin.end(input);
    }
  });
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True once the process no longer exists or is a zombie. */
export async function gone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Sends `signal` to `pid` and resolves true once it is gone, false if still there after `waitMs`. */
export async function kill(pid: number, signal: NodeJS.Signals, waitMs = 10_000): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
  for (const deadline = Date.now() + waitMs; ; await sleep(50)) {
    if (await gone(pid)) return true;
    if (Date.now() > deadline) return false;
  }
}

/** True when a process with this pid exists (zombies included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The full path of `command` on PATH (plus the sbin directories root usually has), or undefined. */
export async function which(command: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs.filter(Boolean)) {
    const path = join(dir, command);
    try {
      await access(path, fsConstants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}
