/**
 * Test images made from this machine's own files (no registry is reachable): each file is copied
 * with the shared libraries `ldd` lists for it, then the tree is imported as an image.
 */
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { exec } from "./_exec.ts";
import type { TestEngine } from "./engine.ts";

/** The libraries a dynamic executable loads, by absolute path (none for a static one). */
async function libraries(file: string): Promise<string[]> {
  const result = await exec("ldd", [file], { allowFail: true });
  return [...result.stdout.matchAll(/(\/\S+) \(0x/g)].map((match) => match[1] as string);
}

/** Imports `files` (image path -> host path) and their libraries as image `tag` with Dockerfile-style `changes`. */
export async function importHostImage(engine: TestEngine, tag: string, files: Record<string, string>, changes: string[] = []): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "dockernet-image-"));
  try {
    for (const [inImage, onHost] of Object.entries(files)) {
      await mkdir(join(root, dirname(inImage)), { recursive: true });
      await cp(onHost, join(root, inImage), { dereference: true });
      for (const library of await libraries(onHost)) {
        await mkdir(join(root, dirname(library)), { recursive: true });
        await cp(library, join(root, library), { dereference: true });
      }
    }
    const tar = join(tmpdir(), `${tag.replace(/[^a-z0-9]/gi, "-")}-${Date.now()}.tar`);
    await exec("tar", ["-C", root, "-cf", tar, "."]);
    await engine.docker(["import", ...changes.flatMap((change) => ["-c", change]), tar, tag]);
    await rm(tar, { force: true });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
