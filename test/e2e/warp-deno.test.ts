/**
 * warp's runtime commands under Deno: the same TypeScript source installs and uninstalls the
 * runtime entry, and passes runc calls through (with node:child_process, not bun's spawn). Docker
 * itself runs the compiled binary as the runtime (test/integration/warp-runtime.test.ts).
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, which } from "../support/_exec.ts";
import { repoRoot } from "../support/dockernet.ts";

setDefaultTimeout(120_000);

const denoExecutable = join(repoRoot, "node_modules/deno/deno");
const binaryDir = join(repoRoot, "dist");
let runc = "";

/** `deno run -A src/main.ts ARGS`, with the compiled binary on the PATH (the entry names it). */
function underDeno(args: string[]) {
  return exec(denoExecutable, ["run", "-A", join(repoRoot, "src/main.ts"), ...args], {
    env: { PATH: `${binaryDir}:${process.env.PATH}`, HOME: process.env.HOME, DENO_NO_UPDATE_CHECK: "1" },
    allowFail: true,
  });
}

beforeAll(async () => {
  if (!existsSync(denoExecutable)) throw new Error(`${denoExecutable} not found: run npm install (the deno package is a devDependency)`);
  if (!existsSync(join(binaryDir, "dockernet"))) throw new Error("dist/dockernet is missing: node_modules/.bin/bun test/support/build-binary.ts");
  runc = (await which("runc")) ?? "";
  if (!runc) throw new Error("runc not found (Debian package runc)");
});

describe("warp runtime under Deno", () => {
  test("install --dry-run prints the change; install and uninstall keep every other key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dockernet-deno-runtime-"));
    try {
      const file = join(dir, "daemon.json");
      const original = { "log-level": "warn", runtimes: { spare: { path: "runc" } } };
      await writeFile(file, JSON.stringify(original));
      const dry = await underDeno(["warp", "runtime", "install", "--daemon-json", file, "--dry-run", "--default"]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`would change ${file}:`);
      expect(dry.stdout).toContain('default-runtime: (absent) -> "dockernet"');
      expect(JSON.parse(await readFile(file, "utf8"))).toEqual(original);

      expect((await underDeno(["warp", "runtime", "install", "--daemon-json", file])).code).toBe(0);
      const installed = JSON.parse(await readFile(file, "utf8"));
      expect(installed.runtimes.dockernet).toEqual({ path: join(binaryDir, "dockernet"), runtimeArgs: ["warp", "runtime", "oci", "--runc", expect.stringMatching(/runc$/), "--"] });
      expect(installed["log-level"]).toBe("warn");
      expect(JSON.parse(await readFile(`${file}.dockernet-backup`, "utf8"))).toEqual(original);

      expect((await underDeno(["warp", "runtime", "uninstall", "--daemon-json", file])).code).toBe(0);
      expect(JSON.parse(await readFile(file, "utf8"))).toEqual(original);
      const wrong = await underDeno(["warp", "runtime", "reinstall", "--daemon-json", file]);
      expect(wrong.code).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("warp runtime oci passes runc's output and exit status through", async () => {
    const version = await underDeno(["warp", "runtime", "oci", "--runc", runc, "--", "--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toBe((await exec(runc, ["--version"])).stdout);
    const missing = await underDeno(["warp", "runtime", "oci", "--runc", runc, "--", "--root", join(tmpdir(), "dockernet-no-runc-root"), "state", "nothing-here"]);
    const direct = await exec(runc, ["--root", join(tmpdir(), "dockernet-no-runc-root"), "state", "nothing-here"], { allowFail: true });
    expect(missing.code).toBe(direct.code);
    expect(missing.code).not.toBe(0);
  });
});
