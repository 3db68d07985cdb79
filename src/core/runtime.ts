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
