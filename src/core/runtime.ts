/**
 * The one adapter to runtime-specific APIs (the rest of src/ uses `node:` built-ins only, so the
 * same source runs under bun and Deno).
 */
import { spawn } from "node:child_process";

interface BunChild {
  exited: Promise<number>;
  signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): void;
}
/** A child of Bun.spawn with its output piped. */
interface BunPipedChild extends BunChild {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
}
type Collectable = {
  Bun?: {
    gc(force: boolean): void;
    spawn?(command: string[], options: { stdio: (string | number)[] }): BunChild;
    spawn?(command: string[], options: { stdin: Uint8Array | "ignore"; stdout: "pipe"; stderr: "pipe" }): BunPipedChild;
    unsafe?: { setJITPolicy?(scale: number): void };
  };
  gc?: () => void;
};

/**
 * A full garbage collection, where the runtime offers one (bun: always; Node/Deno: only with
 * --expose-gc). A daemon calls it after a burst of work so that an idle process returns to its
 * idle size instead of keeping the burst's garbage until the next allocation-driven collection.
 */
export function collectGarbage(): void {
  const runtime = globalThis as Collectable;
  if (runtime.Bun) runtime.Bun.gc(true);
  else runtime.gc?.();
}

/**
 * How many times more reluctant than normal JavaScriptCore's JIT is to compile in a dockernet
 * process, unless it relays streams (flow and bridge daemons, and the flow actions that run as
 * long as a stream: `relaysStreams`). Most of dockernet's work is short and varied: a command, a
 * runc call under the runtime, a reconciler's burst (per container an inspect, a plan, one process
 * or API call). A fresh process does not run that code often enough to repay compiling it, and
 * compiles while it runs, beside Docker starting the containers. Measured on 50 targets: the warp
 * daemon's own CPU per target of a burst 3.8-4.4 ms against 5.0-5.6 at the normal policy, its idle
 * RSS after the burst 52.7-56.6 MB against 59.5-62.1 (test/bench/warp-latency.ts); `warp --once` 270 ms
 * of CPU against 310. A process that relays a stream runs the same loop for as long as it lasts,
 * which compiling does repay: it sets {@link normalJitPolicy} back.
 */
export const reluctantJitPolicy = 16;
/** JavaScriptCore's own policy. */
export const normalJitPolicy = 1;

/**
 * Scales JavaScriptCore's JIT tier-up thresholds for this process (bun's `Bun.unsafe.setJITPolicy`,
 * which holds until the next call). Returns false where there is no such call (Deno, Node, bun
 * before 1.4), which then keep their own policy.
 */
export function setJitPolicy(scale: number): boolean {
  const unsafe = (globalThis as Collectable).Bun?.unsafe;
  if (unsafe?.setJITPolicy === undefined) return false;
  unsafe.setJITPolicy(scale);
  return true;
}

/**
 * The command line that runs this same dockernet again with `args`: the compiled binary itself,
 * or the runtime and the entry script when running from source (`bun src/main.ts`,
 * `deno run -A src/main.ts`).
 */
export function selfCommand(args: readonly string[]): [string, string[]] {
  const script = process.argv[1] ?? "";
  // A compiled bun binary sees its entry in bun's virtual file system.
  if (script.startsWith("/$bunfs/") || script === "") return [process.execPath, [...args]];
  if ("Deno" in globalThis) return [process.execPath, ["run", "-A", script, ...args]];
  return [process.execPath, [script, ...args]];
}

/** A child started by {@link spawnAttached}. */
export interface AttachedChild {
  kill(signal: NodeJS.Signals): void;
  /** Its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `command` on this process's stdin, stdout and stderr and the file descriptors `fds`
 * after them. Under bun with its own spawn, which starts a child in about half the time of
 * node:child_process's (measured in a compiled binary: 18 ms against 33 ms per call, runc
 * included): the OCI runtime pays it on every runc call of every container.
 */
export function spawnAttached(command: string, args: readonly string[], fds: readonly number[]): AttachedChild {
  const stdio = ["inherit", "inherit", "inherit", ...fds];
  const bun = (globalThis as Collectable).Bun;
  if (bun?.spawn) {
    const child = bun.spawn([command, ...args], { stdio });
    return { kill: (signal) => child.kill(signal), exited: child.exited.then((code) => ({ code: child.signalCode ? null : code, signal: child.signalCode })) };
  }
  const child = spawn(command, args, { stdio: stdio as ("inherit" | number)[], shell: false });
  return {
    kill: (signal) => child.kill(signal),
    exited: new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve({ code, signal }));
    }),
  };
}

/** How a command run by {@link spawnCaptured} ended, and what it printed. */
export interface CapturedRun {
  stdout: string;
  stderr: string;
  /** Its exit code; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed (SIGKILL) because it ran longer than `timeoutMs`. */
  timedOut: boolean;
}

/** A started child whose output is being collected: `done` settles once it exited and its pipes closed. */
interface CapturingChild {
  kill(signal: NodeJS.Signals): void;
  done: Promise<Omit<CapturedRun, "timedOut">>;
}

/**
 * Runs `command` with `input` on its stdin (none: /dev/null) and its stdout and stderr captured,
 * killed after `timeoutMs`. Rejects only when it cannot start (`code` ENOENT for a missing command).
 * Under bun with its own spawn: measured beside node:child_process for one small command, 0.3-0.4 ms
 * of the parent's CPU per call against 0.6-1.0 ms, which the warp daemon pays on every route change
 * of a burst of starts.
 */
export async function spawnCaptured(command: string, args: readonly string[], options: { input?: string; timeoutMs: number }): Promise<CapturedRun> {
  const child = (globalThis as Collectable).Bun?.spawn ? captureBun(command, args, options.input) : captureNode(command, args, options.input);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  try {
    return { ...(await child.done), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

function captureBun(command: string, args: readonly string[], input: string | undefined): CapturingChild {
  const bun = (globalThis as Collectable).Bun as Required<NonNullable<Collectable["Bun"]>>;
  let child: BunPipedChild;
  try {
    child = bun.spawn([command, ...args], { stdin: input === undefined ? "ignore" : new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe" });
  } catch (error) {
    // Bun throws at once for a command it cannot start; node reports it on the child instead.
    return { kill: () => {}, done: Promise.reject(error) };
  }
  const done = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]).then(([stdout, stderr, code]) => ({
    stdout,
    stderr,
    code: child.signalCode ? null : code,
    signal: child.signalCode,
  }));
  return { kill: (signal) => child.kill(signal), done };
}

function captureNode(command: string, args: readonly string[], input: string | undefined): CapturingChild {
  const child = spawn(command, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"], shell: false });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stdin?.on("error", () => {}); // the command may exit before reading its input
  const done = new Promise<Omit<CapturedRun, "timedOut">>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString(), code, signal }));
  });
  child.stdin?.end(input);
  return { kill: (signal) => child.kill(signal), done };
}
