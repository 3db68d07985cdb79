/**
 * Import rules a reader relies on (DESIGN.md's layout), checked on the real source: src/service/
 * makes units from mode descriptions without reaching the Docker client, not even as types; modes
 * never import each other; dependencies point one way; each outside package stays in its folder.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";

const src = resolve(import.meta.dir, "../../src");

/** Every relative import of a file, type-only ones too, as absolute paths. */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8");
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s+"(\.[^"]+)"/g), ...text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g)];
  return specifiers.map((match) => resolve(dirname(file), match[1] as string));
}

/** Every bare (package) import of a file, type-only ones too. */
async function packagesOf(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8");
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s+"([^."][^"]*)"/g), ...text.matchAll(/import\(\s*"([^."][^"]*)"\s*\)/g)];
  return specifiers.map((match) => match[1] as string);
}

/** Every source file, relative to src/. */
async function sourceFiles(): Promise<string[]> {
  return (await Array.fromAsync(new Glob("**/*.ts").scan(src))).sort();
}

/** The layer a source file belongs to: its top folder, or the mode folder under modes/ ("modes" for modes/*.ts). */
function layerOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "modes" && parts.length > 2) return `modes/${parts[1]}`;
  return parts.length > 1 ? (parts[0] as string) : file;
}

/** Which layers each layer may import (besides itself): `main -> cli -> modes -> {docker, net, ssh, config} -> core`. */
const mayImport: Record<string, readonly string[]> = {
  core: [],
  config: ["core"],
  net: ["core"],
  ssh: ["core"],
  // A DOCKER_HOST of ssh:// is dialled over the project's one SSH connection.
  docker: ["core", "ssh"],
};

/** The folders (or files) an outside package may be imported from; DESIGN.md's "one folder each". */
const packageHomes: Record<string, (file: string) => boolean> = {
  dockerode: (file) => file.startsWith("docker/"),
  ssh2: (file) => file.startsWith("ssh/"),
  // The command tree is cli/_root.ts: main.ts answers the OCI runtime and --version without it.
  citty: (file) => file.startsWith("cli/"),
  // Schemas live in config/ and at the edges (a mode's config, labels, protocol): never in the layers below.
  valibot: (file) => !/^(core|docker|net|ssh|service|cli)\//.test(file) && file !== "main.ts",
  "socket.io": (file) => file.startsWith("modes/flow/"),
  "socket.io-client": (file) => file.startsWith("modes/flow/"),
};

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

  test("a mode never imports another mode (only modes/registry.ts knows them all)", async () => {
    const crossings: string[] = [];
    for (const file of await sourceFiles()) {
      const from = layerOf(file);
      if (!from.startsWith("modes/")) continue;
      for (const target of await importsOf(join(src, file))) {
        const to = layerOf(relative(src, target));
        // modes/*.ts (types, registry...) are layer "modes", shared by all.
        if (to.startsWith("modes/") && to !== from) crossings.push(`${file} -> ${relative(src, target)}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  test("the lower layers import only the layers below them", async () => {
    const upward: string[] = [];
    for (const file of await sourceFiles()) {
      const from = layerOf(file);
      const allowed = mayImport[from];
      for (const target of await importsOf(join(src, file))) {
        const to = layerOf(relative(src, target));
        const ok = to === from || (allowed ? allowed.includes(to) : to !== "main.ts" && !(from.startsWith("modes") && to === "cli"));
        if (!ok) upward.push(`${file} -> ${relative(src, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  test("each outside package is imported only in its own folder", async () => {
    const strays: string[] = [];
    let seen = 0;
    for (const file of await sourceFiles()) {
      for (const specifier of await packagesOf(join(src, file))) {
        const home = packageHomes[specifier];
        if (!home) continue;
        seen++;
        if (!home(file)) strays.push(`${file} imports ${specifier}`);
      }
    }
    expect(strays).toEqual([]);
    // The check does read package imports.
    expect(seen).toBeGreaterThan(10);
  });

  test("the check sees a crossing where there is one", async () => {
    const targets = (await importsOf(join(src, "modes/registry.ts"))).map((file) => layerOf(relative(src, file)));
    expect(targets).toContain("modes/warp");
    expect(await packagesOf(join(src, "docker/client.ts"))).toContain("dockerode");
  });
});
