import { describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, realpath, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { leavesTree } from "../../src/modes/flow/manager/_link-escape.ts";
import { snapshotTree } from "../../src/modes/flow/manager/_code-snapshot.ts";
import { readCode } from "../../src/modes/flow/manager/code-update.ts";
import { exec } from "../support/_exec.ts";
import { repoRoot } from "../support/dockernet.ts";
import { asNobody } from "../support/first-hour.ts";

describe("symlinks of update_container's tree, resolved as the container will", () => {
  const links = (pairs: Record<string, string>) => new Map(Object.entries(pairs));

  test("links that stay inside are kept, through other links too", () => {
    expect(leavesTree(links({ "a/up": "../b" }), "a/up", "../b")).toBe(false);
    expect(leavesTree(links({ here: "." }), "here", ".")).toBe(false);
    expect(leavesTree(links({ deep: "x/y", back: "deep/.." }), "back", "deep/..")).toBe(false);
  });

  test("links that leave are refused: absolute, `..` past the top, and `..` after a link to a shallower place", () => {
    expect(leavesTree(links({ abs: "/etc" }), "abs", "/etc")).toBe(true);
    expect(leavesTree(links({ "a/up": "../.." }), "a/up", "../..")).toBe(true);
    // `d/d/../../etc` reads as `etc`, but d is the top itself: the kernel lands two levels above it.
    const tricky = links({ d: ".", e: "d/d/../../etc" });
    expect(leavesTree(tricky, "e", "d/d/../../etc")).toBe(true);
    // Through a chain: f leads to a link that leads out.
    expect(leavesTree(links({ out: "../x", f: "out" }), "f", "out")).toBe(true);
    expect(leavesTree(links({ abs: "/", g: "abs/etc" }), "g", "abs/etc")).toBe(true);
  });

  test("a loop leads nowhere and ends", () => {
    expect(leavesTree(links({ a: "b", b: "a" }), "a", "b")).toBe(false);
  });
});

describe("readCode", () => {
  test("reads a tree whole, keeps inside links, refuses the link that leaves through another link", async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), "dnflow-snap-")));
    try {
      await mkdir(join(dir, "sub"));
      await writeFile(join(dir, "sub/code.sh"), "echo hi\n");
      await symlink("sub/code.sh", join(dir, "run"));
      await symlink(".", join(dir, "d"));
      const entries = await readCode(dir);
      expect(entries.map((entry) => `${entry.type} ${entry.path}`)).toEqual(["symlink d", "symlink run", "directory sub", "file sub/code.sh"]);
      await symlink("d/d/../../etc", join(dir, "e"));
      await expect(readCode(dir)).rejects.toThrow("e is a symlink leading out of the code directory; nothing was changed");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a tree over its bounds of bytes or entries is refused, naming the entry that went over", async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), "dnflow-snap-")));
    try {
      for (const name of ["a", "b", "c", "d"]) await writeFile(join(dir, name), "12345");
      const all = (real: string) => real === dir;
      expect(await snapshotTree(dir, all, { bytes: 20, entries: 4 })).toHaveLength(4);
      await expect(snapshotTree(dir, all, { bytes: 20, entries: 3 })).rejects.toThrow("code_path: d takes the tree over 3 entries; nothing was changed");
      await expect(snapshotTree(dir, all, { bytes: 12, entries: 4 })).rejects.toThrow("code_path: c takes the tree over 12 bytes; nothing was changed");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  test("a path swapped for a symlink after its check cannot lead the copy out of the root", async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), "dnflow-snap-")));
    try {
      const root = join(dir, "root");
      const outside = join(dir, "outside");
      for (const tree of [join(root, "app/code"), join(outside, "app/code")]) {
        await mkdir(tree, { recursive: true });
        await writeFile(join(tree, "code.sh"), "echo hi\n");
      }
      const underRoot = (real: string) => real === root || real.startsWith(`${root}/`);
      const source = join(root, "app/code");
      expect(await snapshotTree(source, underRoot)).toHaveLength(1);
      // Checked, then the directory itself becomes a link to elsewhere: its last component is never followed.
      await rename(source, join(root, "app/code-old"));
      await symlink(join(outside, "app/code"), source);
      await expect(snapshotTree(source, underRoot)).rejects.toThrow(/^code_path: the directory cannot be opened as a directory \((ENOTDIR|ELOOP)\); nothing was changed$/);
      // Checked, then a parent becomes a link: what was opened is not under the root, and is refused.
      await rm(source);
      await rename(join(root, "app"), join(root, "app-old"));
      await symlink(join(outside, "app"), join(root, "app"));
      await expect(snapshotTree(source, underRoot)).rejects.toThrow("code_path: the directory changed after it was checked; nothing was changed");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  test("an unreadable file is refused, naming it, before anything is read into the copy (as nobody: root reads every file)", async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), "dnflow-snap-")));
    try {
      await chmod(dir, 0o755);
      await mkdir(join(dir, "code"), { mode: 0o755 });
      await writeFile(join(dir, "code/app.sh"), "echo hi\n", { mode: 0o644 });
      await writeFile(join(dir, "code/key.pem"), "secret\n", { mode: 0o600 });
      const probe = `import { readCode } from ${JSON.stringify(join(repoRoot, "src/modes/flow/manager/code-update.ts"))};
        try { console.log((await readCode(${JSON.stringify(join(dir, "code"))})).length, "entries") } catch (error) { console.log(error.message) }`;
      const run = () => exec(asNobody[0], [...asNobody.slice(1), process.execPath, "-e", probe]);
      expect((await run()).stdout.trim()).toBe("code_path: key.pem is not readable; nothing was changed");
      await chmod(join(dir, "code/key.pem"), 0o644);
      expect((await run()).stdout.trim()).toBe("2 entries");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
