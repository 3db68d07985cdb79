import { constants } from "node:os";
import { DockernetError } from "../core/errors.ts";
import { spawnAttached, spawnCaptured, type AttachedChild, type CapturedRun } from "../core/runtime.ts";

export interface RunOptions {
  /** Written to the command's standard input, then closed. */
  input?: string;
  /** Kill the command after this long (default 10 s). */
  timeoutMs?: number;
  /** Resolve with the exit code instead of throwing when the command fails. */
  allowFail?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

const defaultTimeoutMs = 10_000;

/**
 * Runs one external command from an argument array: never through a shell, so no label or config
 * value can be interpreted as shell syntax. Standard error is folded into the thrown error.
 */
export async function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const shown = [command, ...args].join(" ");
  let run: CapturedRun;
  try {
    run = await spawnCaptured(command, args, { input: options.input, timeoutMs });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException)?.code === "ENOENT";
    throw new DockernetError(missing ? `command not found: ${command}` : `cannot run ${shown}: ${(error as Error)?.message ?? String(error)}`, {
      code: missing ? "COMMAND_NOT_FOUND" : "COMMAND_FAILED",
      hint: missing ? `install ${command} (Debian: util-linux for nsenter, iproute2 for ip)` : undefined,
      cause: error,
    });
  }
  const result = { stdout: run.stdout, stderr: run.stderr, code: run.code ?? 128 };
  if (run.timedOut) throw new DockernetError(`${shown} timed out after ${timeoutMs} ms`, { code: "COMMAND_TIMEOUT" });
  if (result.code !== 0 && !options.allowFail) {
    const why = result.stderr.trim() || (run.signal ? `killed by ${run.signal}` : `exit code ${result.code}`);
    throw new DockernetError(`${shown} failed: ${why}`, { code: "COMMAND_FAILED" });
  }
  return result;
}

/** Signals a caller may send the process that runs an attached command, handed on to it. */
const forwarded: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"];

/**
 * Runs one command attached to this process: on its own stdin, stdout and stderr plus the
 * `extraFds` file descriptors after them (3, 4...), with signals forwarded; resolves with its exit
 * status (128 + the signal number when a signal ended it, as a shell reports it). For the OCI
 * runtime's pass-through, where runc must own the caller's streams (a container's stdio, a
 * terminal) and its status must reach the caller unchanged; {@link runCommand} captures instead.
 */
export async function runAttached(command: string, args: readonly string[], options: { extraFds?: number } = {}): Promise<number> {
  const fds = Array.from({ length: options.extraFds ?? 0 }, (_, index) => 3 + index);
  let child: AttachedChild;
  try {
    child = spawnAttached(command, args, fds);
  } catch (error) {
    throw notStarted(command, error);
  }
  const relays = forwarded.map((signal) => {
    const relay = () => child.kill(signal);
    process.on(signal, relay);
    return [signal, relay] as const;
  });
  try {
    const { code, signal } = await child.exited.catch((error: unknown) => {
      throw notStarted(command, error);
    });
    return code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
  } finally {
    for (const [signal, relay] of relays) process.off(signal, relay);
  }
}

function notStarted(command: string, error: unknown): DockernetError {
  const code = (error as NodeJS.ErrnoException)?.code;
  return new DockernetError(`cannot run ${command}: ${(error as Error)?.message ?? String(error)}`, { code: code === "ENOENT" ? "COMMAND_NOT_FOUND" : "COMMAND_FAILED", cause: error });
}
