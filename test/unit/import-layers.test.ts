/**
 * Import rules a reader relies on, checked on the real source: src/service/ makes units from
 * mode descriptions without reaching the Docker client, not even as types.
 */
import { describe, expect, test } from "bun:test";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";

const src = resolve(import.meta.dir, "../../src");

/** Every relative import of a file, type-only ones too, as absolute paths. */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8");
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s+"(\.[^"]+)"/g), ...text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g)];
  return specifiers.map((match) => resolve(dirname(file), match[1] as string));
}

/** The files reachable from `roots` through relative imports, each with the chain that reached it. */
async function reachable(roots: readonly string[]): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>(roots.map((root) => [root, [root]]));
  const queue = [...roots];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const next of await importsOf(file)) {
      if (seen.has(next)) continue;
      seen.set(next, [...(seen.get(file) ?? []), next]);
      queue.push(next);
    }
  }
  return seen;
}

describe("import layers", () => {
  test("src/service/ reaches no Docker client, mode registry or mode folder", async () => {
    const roots = (await readdir(join(src, "service"))).filter((name) => name.endsWith(".ts")).map((name) => join(src, "service", name));
    expect(roots.length).toBeGreaterThan(3);
    const reached = await reachable(roots);
    const forbidden = [...reached].filter(([file]) => file.startsWith(join(src, "docker")) || file === join(src, "modes/registry.ts") || file === join(src, "modes/types.ts"));
    expect(forbidden.map(([, chain]) => chain.map((file) => relative(src, file)).join(" -> "))).toEqual([]);
    // The check does follow imports: the description the units are made from is reached.
    expect(reached.has(join(src, "modes/description.ts"))).toBe(true);
  });

  test("the check sees a type-only path to the Docker client where there is one", async () => {
    const reached = await reachable([join(src, "modes/types.ts")]);
    expect(reached.has(join(src, "docker/client.ts"))).toBe(true);
  });
});
