import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { writeTar } from "../../src/modes/flow/manager/_tar.ts";

/** `archive` written to a scratch directory and listed by GNU tar (numeric owners); `use` reads the directory. */
async function listedByTar(archive: Buffer, use: (dir: string, listing: string) => Promise<void> = async () => {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "dnflow-tar-"));
  try {
    await writeFile(join(dir, "a.tar"), archive);
    const listed = spawnSync("tar", ["--numeric-owner", "-tvf", join(dir, "a.tar")], { encoding: "utf8" });
    expect(listed.status).toBe(0);
    await use(dir, listed.stdout);
    return listed.stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("the tar writer of update_container", () => {
  test("GNU tar reads it back: directories, files with their content and mode, symlinks, long names, the owner given", async () => {
    const long = `deep/${"d".repeat(120)}/file.txt`;
    const archive = writeTar(
      [
        { type: "directory", path: "app", mode: 0o755 },
        { type: "file", path: "app/run.sh", mode: 0o750, content: Buffer.from("echo hi\n") },
        { type: "symlink", path: "app/link", target: "run.sh" },
        { type: "directory", path: "app/deep", mode: 0o700 },
        { type: "directory", path: `app/deep/${"d".repeat(120)}`, mode: 0o755 },
        { type: "file", path: `app/${long}`, mode: 0o644, content: Buffer.alloc(1000, 7) },
      ],
      { uid: 1234, gid: 5678 },
    );
    expect(archive.length % 512).toBe(0);
    await listedByTar(archive, async (dir, listing) => {
      expect(listing).toContain("-rwxr-x--- 1234/5678");
      expect(listing).toContain("app/link -> run.sh");
      const extracted = spawnSync("tar", ["-C", dir, "-xf", join(dir, "a.tar")], { encoding: "utf8" });
      expect(extracted.status).toBe(0);
      expect(await readFile(join(dir, "app/run.sh"), "utf8")).toBe("echo hi\n");
      expect((await stat(join(dir, "app/run.sh"))).mode & 0o7777).toBe(0o750);
      expect(await readlink(join(dir, "app/link"))).toBe("run.sh");
      expect((await readFile(join(dir, "app", long))).equals(Buffer.alloc(1000, 7))).toBe(true);
    });
  });

  test("owner ids too large for the header travel in pax records; GNU tar reads them back", async () => {
    const archive = writeTar([{ type: "file", path: "f", mode: 0o644, content: Buffer.from("x") }], { uid: 4_000_000_000, gid: 3_000_000 });
    expect(await listedByTar(archive)).toContain("4000000000/3000000");
  });

  test("paths that could leave the unpack directory are refused, naming the path", () => {
    for (const path of ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/\0b", ""]) {
      expect(() => writeTar([{ type: "file", path, mode: 0o644, content: Buffer.alloc(0) }], { uid: 0, gid: 0 })).toThrow(JSON.stringify(path));
    }
  });
});
