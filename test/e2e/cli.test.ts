import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { repoRoot, waitFor } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";
import { nextHop } from "../support/routing.ts";
import { useScratch } from "../support/scratch.ts";

const scratch = useScratch("dockernet-e2e-");

setDefaultTimeout(120_000);

const binary = join(repoRoot, "dist/dockernet");
const bun = join(repoRoot, "node_modules/.bin/bun");
const deno = join(repoRoot, "node_modules/.bin/deno");
const version = (await import("../../package.json")).version as string;

/** Runs the compiled binary as a user would, with a clean environment. */
function dockernet(args: string[], env: Record<string, string> = {}) {
  return exec(binary, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, allowFail: true });
}

beforeAll(async () => {
  if (!existsSync(binary)) await exec(bun, ["run", "build"], { timeoutMs: 300_000 });
});

describe("the compiled binary", () => {
  test("--version prints the version and loads no Docker, SSH or Socket.IO code", async () => {
    const shown = await dockernet(["--version"]);
    expect(shown).toMatchObject({ code: 0, stdout: `${version}\n` });
    // The same entry point from source, with every load of those packages made to fail.
    const trace = ["--preload", join(repoRoot, "test/support/trace-loads.ts"), join(repoRoot, "src/main.ts")];
    const lazy = await exec(bun, [...trace, "--version"], { allowFail: true });
    expect(lazy.stderr).not.toContain("LOADED");
    expect(lazy.code).toBe(0);
    // The tracer does see a command that needs Docker load dockerode.
    const eager = await exec(bun, [...trace, "warp", "--once"], { allowFail: true, env: { PATH: process.env.PATH, DOCKER_HOST: "unix:///nonexistent.sock" } });
    expect(eager.stderr).toContain("LOADED");
  });

  test("--help lists the modes with examples; every command's help has examples", async () => {
    const help = await dockernet(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).not.toContain("\x1b["); // no terminal colours into a pipe
    expect(help.stdout).toContain("warp");
    expect(help.stdout).toContain("config");
    expect(help.stdout).toContain("Examples:");
    for (const command of [["warp"], ["config", "validate"]]) {
      const sub = await dockernet([...command, "--help"]);
      expect(sub.code).toBe(0);
      expect(sub.stdout).not.toContain("\x1b[");
      expect(sub.stdout).toContain("Examples:");
      expect(sub.stdout).toContain(`dockernet ${command.join(" ")}`);
    }
  });

  test("usage and config errors exit 2 and name the problem", async () => {
    const typo = await dockernet(["warp", "--onse"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown flag --onse");
    const unknown = await dockernet(["nope"]);
    expect(unknown.code).toBe(2);
    const dir = scratch();
    const file = join(dir, "config.toml");
    await writeFile(file, '[warp]\nroutes = ["0.0.0.0/0", "10.0.0.0/33"]\nbogus = 1\n');
    const bad = await dockernet(["config", "validate", "--config", file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('warp.routes[1]: "10.0.0.0/33" is not a CIDR');
    expect(bad.stderr).toContain("warp.bogus");
    const badEnv = await dockernet(["warp", "--once"], { DOCKERNET_LOG_LEVEL: "loud" });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain("log.level");
    await writeFile(file, '[warp]\ncontainer_pattern = "gw-*"\n');
    const good = await dockernet(["config", "validate", "--config", file, "--log-level", "debug"], { DOCKERNET_WARP_ROUTES: "10.0.0.0/8" });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/container_pattern = "gw-\*"\s+# file/);
    expect(good.stdout).toMatch(/routes = \[ ?"10.0.0.0\/8" ?\]\s+# env DOCKERNET_WARP_ROUTES/);
    expect(good.stdout).toMatch(/level = "debug"\s+# flag --log-level/);
  });

  test("an unreachable engine or an unreadable socket is exit 1 with a hint", async () => {
    const gone = await dockernet(["warp", "--once"], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("cannot reach the Docker engine at unix:///nonexistent/docker.sock");
    expect(gone.stderr).toContain("hint:");
    const dir = scratch();
    const socket = join(dir, "docker.sock");
    const server = (await import("node:net")).createServer().listen(socket);
    await new Promise((resolve) => server.once("listening", resolve));
    await exec("chmod", ["000", socket]);
    // root ignores file modes, so check as an unprivileged user.
    const denied = await exec("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "warp", "--once"], {
      env: { PATH: process.env.PATH, DOCKER_HOST: `unix://${socket}` },
      allowFail: true,
    });
    server.close();
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("permission denied on the Docker socket");
    expect(denied.stderr).toContain("docker group");
  });

  test("--log-format json prints one JSON object per line", async () => {
    const result = await dockernet(["warp", "--once", "--log-format", "json"], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    const lines = result.stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty("msg");
  });
});

describe("the directory it is started in", () => {
  test("a bunfig.toml or .env there changes nothing: its preload does not run, its variables are not read", async () => {
    const dir = scratch();
    const marker = join(dir, "preloaded");
    await writeFile(join(dir, "preload.js"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
    await writeFile(join(dir, "bunfig.toml"), 'preload = ["./preload.js"]\n');
    await writeFile(join(dir, ".env"), "DOCKERNET_LOG_LEVEL=debug\nDOCKERNET_WARP_LABEL_PREFIX=from.dotenv\n");
    const child = Bun.spawn([binary, "config", "validate"], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect(existsSync(marker)).toBe(false);
    expect(stdout).toContain('level = "info"  # default');
    expect(stdout).not.toContain("from.dotenv");
    expect(stderr).toBe("");
    expect(await child.exited).toBe(0);
  });
});

describe("against a real engine", () => {
  const engine = useTestEngine({ name: "dntest-e2e", subnet: 93 });

  async function scenario() {
    const net = await engine.network("vpn", { subnet: "10.61.1.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    const app = await engine.run("app-1", { network: net.name, labels: { "network.warp.target": "warp-1" } });
    return { app, via: await warp.ip(net.name) };
  }

  test("the binary routes a target with warp --once", async () => {
    const { app, via } = await scenario();
    const result = await dockernet(["warp", "--once"], { DOCKER_HOST: engine.host });
    expect(result.code).toBe(0);
    expect(await nextHop(app, "1.1.1.1")).toBe(via);
  });

  test("the same source runs under Deno: deno run -A src/main.ts warp --once", async () => {
    const { app, via } = await scenario();
    const result = await exec(deno, ["run", "-A", join(repoRoot, "src/main.ts"), "warp", "--once"], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: engine.host, DENO_NO_UPDATE_CHECK: "1" },
      allowFail: true,
      timeoutMs: 120_000,
    });
    expect(result.stderr).toContain("reconciled once");
    expect(result.code).toBe(0);
    await waitFor("the route made under Deno", async () => (await nextHop(app, "1.1.1.1")) === via, 2000);
  });
});
