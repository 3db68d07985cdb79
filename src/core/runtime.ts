/**
 * The one adapter to runtime-specific APIs (the rest of src/ uses `node:` built-ins only, so the
 * same source runs under bun and Deno).
 */
type Collectable = { Bun?: { gc(force: boolean): void }; gc?: () => void };

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
