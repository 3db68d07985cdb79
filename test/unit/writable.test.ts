import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { whyNoDir, whyNoFile } from "../../src/core/writable.ts";

// Permission denials are checked as `nobody` by test/e2e/first-hour.test.ts: root passes access().
const dir = await mkdtemp(join(tmpdir(), "dn-writable-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("whyNoDir / whyNoFile: what a daemon refuses at start, creating nothing", () => {
  test("a missing directory under a writable one is fine, and is not made", async () => {
    expect(await whyNoDir(join(dir, "a", "b"))).toBeUndefined();
    expect(existsSync(join(dir, "a"))).toBe(false);
    expect(await whyNoFile(join(dir, "a", "token"))).toBeUndefined();
  });

  test("a file in the way of a directory, a directory in place of a file", async () => {
    await writeFile(join(dir, "file"), "x");
    expect(await whyNoDir(join(dir, "file", "sockets"))).toBe(`${join(dir, "file")} is not a directory`);
    expect(await whyNoFile(dir)).toBe(`${dir} is a directory`);
    expect(await whyNoFile(join(dir, "file"))).toBeUndefined();
  });
});
