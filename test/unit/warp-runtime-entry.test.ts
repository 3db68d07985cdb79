import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOciRuntime } from "../../src/modes/warp/runtime/entry.ts";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dockernet-runtime-entry-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The lines the shim would read from the `--log` file (containerd takes the last `error` one as the reason). */
async function logLines(file: string): Promise<{ level: string; msg: string; time: string }[]> {
  return (await readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line));
}

describe("runOciRuntime's failures, as the shim reads them", () => {
  test("the entry's runc gone: every call fails with that reason in runc's JSON log format, start included", async () => {
    for (const command of [["state", "abc"], ["start", "abc"]]) {
      const log = join(dir, `${command[0]}.json`);
      const code = await runOciRuntime(["--runc", join(dir, "no-runc"), "--", "--log", log, "--log-format", "json", ...command]);
      expect(code).toBe(1);
      const [line] = await logLines(log);
      expect(line?.level).toBe("error");
      expect(line?.msg).toStartWith(`dockernet: runc not found: ${join(dir, "no-runc")} (install runc, or run \`dockernet warp runtime install\` again`);
      expect(Number.isNaN(Date.parse(line?.time ?? ""))).toBe(false);
    }
  });

  test("an argument of its own it does not know: a usage error, nothing run", async () => {
    const log = join(dir, "usage.json");
    expect(await runOciRuntime(["--runc", "/bin/true", "--bogus", "x", "--", "--log", log, "--log-format", "json", "state", "abc"])).toBe(2);
  });

  test("runc's own exit status comes back unchanged", async () => {
    expect(await runOciRuntime(["--runc", "/bin/false", "--", "state", "abc"])).toBe(1);
    expect(await runOciRuntime(["--runc", "/bin/true", "--", "state", "abc"])).toBe(0);
  });
});

describe("runOciRuntime's pass-through of preserved file descriptors", () => {
  test("--preserve-fds N: fds 3.. of the caller reach runc as they are (here: a file the caller opened)", async () => {
    const { openSync, closeSync } = await import("node:fs");
    const file = join(dir, "fd3.txt");
    const fd = openSync(file, "w");
    try {
      // `sh -c SCRIPT --preserve-fds 1` reads as runc's `[globals] COMMAND [flags]`: sh stands in for runc.
      const child = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "warp", "runtime", "oci", "--runc", "/bin/sh", "--", "-c", "echo through fd 3 >&3", "--preserve-fds", "1"], {
        stdio: ["ignore", "inherit", "inherit", fd],
      });
      expect(await child.exited).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(await readFile(file, "utf8")).toBe("through fd 3\n");
  });
});

describe("runc run / restore (a checkpoint): created and started in one call", () => {
  const id = "c".repeat(64);

  /** A Docker-made container as the runtime finds it: a bundle whose hostname mount is in `<data root>/containers/<id>/`. */
  async function dockerContainer(labels: Record<string, string>): Promise<string> {
    const own = join(dir, "data", "containers", id);
    await mkdir(own, { recursive: true });
    await writeFile(join(own, "config.v2.json"), JSON.stringify({ Name: "/app", Config: { Labels: labels }, NetworkSettings: { Networks: { vpn: {} } } }));
    await writeFile(join(own, "hostconfig.json"), JSON.stringify({ NetworkMode: "vpn" }));
    const bundle = join(dir, "bundle");
    await mkdir(bundle, { recursive: true });
    await writeFile(join(bundle, "config.json"), JSON.stringify({ mounts: [{ destination: "/etc/hostname", source: join(own, "hostname") }] }));
    await writeFile(join(dir, "config.toml"), "");
    return bundle;
  }

  const call = (bundle: string, command: string, log: string) =>
    runOciRuntime(["--runc", "/bin/true", "--config", join(dir, "config.toml"), "--", "--log", log, "--log-format", "json", command, "--bundle", bundle, "--detach", id]);

  test("a warp target is refused: it would run before its routes", async () => {
    const bundle = await dockerContainer({ "network.warp.target": "warp-1" });
    for (const command of ["restore", "run"]) {
      const log = join(dir, `${command}.json`);
      expect(await call(bundle, command, log)).toBe(1);
      expect((await logLines(log))[0]?.msg).toStartWith(`dockernet: container app: runc ${command} would start it at once, before warp could route it (label network.warp.target)`);
    }
  });

  test("any other container goes through (another prefix's .target label included)", async () => {
    const bundle = await dockerContainer({ "com.example.target": "x" });
    expect(await call(bundle, "restore", join(dir, "other.json"))).toBe(0);
  });
});

describe("the runtime's calls load little", () => {
  test("a pass-through call from src/main.ts loads neither the command tree's citty nor the logger's consola", async () => {
    const main = join(import.meta.dir, "../../src/main.ts");
    const trace = join(import.meta.dir, "../support/trace-loads.ts");
    // The tracer makes the first load of a traced package fail, naming it on stderr.
    const run = async (args: string[], packages: string) => {
      const child = Bun.spawn([process.execPath, "--preload", trace, main, ...args], { env: { PATH: process.env.PATH, DN_TRACE_PACKAGES: packages }, stdout: "pipe", stderr: "pipe" });
      const stderr = await new Response(child.stderr).text();
      return { stderr, code: await child.exited };
    };
    const call = await run(["warp", "runtime", "oci", "--runc", "/bin/true", "--", "state", "abc"], "citty,consola");
    expect(call.stderr).not.toContain("LOADED");
    expect(call.code).toBe(0);
    // The tracer does see another command load each of them.
    expect((await run(["config", "--help"], "citty")).stderr).toContain("node_modules/citty/");
    expect((await run(["config", "--help"], "consola")).stderr).toContain("node_modules/consola/");
  });
});
