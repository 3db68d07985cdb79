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
type Collectable = {
  Bun?: { gc(force: boolean): void; spawn?(command: string[], options: { stdio: (string | number)[] }): BunChild };
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
