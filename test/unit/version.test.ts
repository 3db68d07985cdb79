import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { version } from "../../src/core/version.ts";

test("the version is package.json's", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  expect(version).toBe(pkg.version);
  expect(version).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
});
