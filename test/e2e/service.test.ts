/**
 * `dockernet service install|uninstall`, run from the compiled binary as a user would, into temp
 * unit directories (systemctl is not run there). Every generated unit goes through
 * `systemd-analyze verify`. Then the units' sandbox is put to work: warp and join run `--once`
 * against a real engine with exactly the capability bounding set the unit declares, no new
 * privileges, and a read-only file system, as systemd would start them.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, which } from "../support/_exec.ts";
import { repoRoot } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";
import { nextHop } from "../support/routing.ts";

setDefaultTimeout(60_000);

const binary = join(repoRoot, "dist/dockernet");
/**
 * The binary the units name: a copy outside /tmp, wherever the checkout is (units refuse paths
 * under /tmp, which PrivateTmp hides from the service; a CI checkout may well be there).
 */
let unitBinary = "";
const bun = join(repoRoot, "node_modules/.bin/bun");
const scratch: string[] = [];

/** Runs the compiled binary with a clean environment. */
function dockernet(args: string[], env: Record<string, string> = {}) {
  return exec(binary, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, allowFail: true });
}

/** A new empty directory, removed after the tests (a binary or config in a unit cannot be under /tmp: pass another parent). */
async function tempDir(parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parent, "dockernet-service-"));
  scratch.push(dir);
  return dir;
}

beforeAll(async () => {
  // Built when missing, or when it predates the `service` command (a stale build from an older checkout).
  if (!existsSync(binary) || (await dockernet(["service", "install", "warp", "--dry-run", "--binary", "/usr/bin/true"])).code !== 0) {
    await exec(bun, [join(repoRoot, "test/support/build-binary.ts"), "--outfile", binary], { timeoutMs: 300_000 });
  }
  unitBinary = join(await tempDir("/run"), "dockernet");
  await copyFile(binary, unitBinary);
  await chmod(unitBinary, 0o755);
});

afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe("service install and uninstall", () => {
  test("install writes the unit (0644) and says what to run; uninstall removes it", async () => {
    const dir = await tempDir();
    const installed = await dockernet(["service", "install", "warp", "--unit-dir", dir, "--binary", "/usr/local/bin/dockernet"]);
    expect(installed.code).toBe(0);
    expect(await readdir(dir)).toEqual(["dockernet-warp.service"]);
    const file = join(dir, "dockernet-warp.service");
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    const text = await readFile(file, "utf8");
    expect(text).toContain("\nExecStart=/usr/local/bin/dockernet warp\n");
    expect(text).toContain("\nCapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE\n");
    expect(installed.stdout.split("\n")).toEqual([
      `wrote ${file}`,
      "systemctl not run: --unit-dir is not /etc/systemd/system",
      "next: systemctl daemon-reload",
      "next: systemctl enable --now dockernet-warp.service",
      "",
    ]);
    expect(installed.stderr).toContain("/usr/local/bin/dockernet is not an executable file"); // not on this machine: a warning

    const again = await dockernet(["service", "install", "warp", "--unit-dir", dir, "--binary", "/usr/local/bin/dockernet"]);
    expect(again.stdout).toContain("dockernet-warp.service already installed");
    const conflict = await dockernet(["service", "install", "run", "warp", "join", "--unit-dir", dir, "--binary", unitBinary]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain("dockernet-warp.service already runs warp");

    const removed = await dockernet(["service", "uninstall", "warp", "--unit-dir", dir]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`removed ${file}`);
    expect(await readdir(dir)).toEqual([]);
    const nothing = await dockernet(["service", "uninstall", "warp", "--unit-dir", dir]);
    expect(nothing).toMatchObject({ code: 0, stdout: `nothing to remove: no dockernet-warp.service or dockernet-warp.timer in ${dir}\n` });
  });

  test("the timer form writes a service and a timer; switching to the daemon removes the timer", async () => {
    const dir = await tempDir();
    const timer = await dockernet(["service", "install", "join", "--timer", "5m", "--unit-dir", dir, "--binary", unitBinary]);
    expect(timer.code).toBe(0);
    expect(timer.stdout).toContain("next: systemctl enable --now dockernet-join.timer");
    expect((await readdir(dir)).sort()).toEqual(["dockernet-join.service", "dockernet-join.timer"]);
    expect(await readFile(join(dir, "dockernet-join.service"), "utf8")).toContain(`\nExecStart=${unitBinary} join --once\n`);
    expect(await readFile(join(dir, "dockernet-join.timer"), "utf8")).toContain("\nOnUnitActiveSec=5min\n");
    const daemon = await dockernet(["service", "install", "join", "--unit-dir", dir, "--binary", unitBinary]);
    expect(daemon.code).toBe(0);
    expect(daemon.stdout).toContain(`removed ${join(dir, "dockernet-join.timer")}`);
    expect(await readdir(dir)).toEqual(["dockernet-join.service"]);
  });

  test("a unit name that is a symlink (systemctl link) is never written through", async () => {
    const dir = await tempDir();
    const elsewhere = join(await tempDir(), "foo.service");
    await writeFile(elsewhere, "[Unit]\nDescription=someone else's\n");
    await symlink(elsewhere, join(dir, "dockernet-warp.service"));
    const result = await dockernet(["service", "install", "warp", "--unit-dir", dir, "--binary", unitBinary]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not a regular file");
    expect(await readFile(elsewhere, "utf8")).toBe("[Unit]\nDescription=someone else's\n");
  });

  test("--dry-run prints the units and writes nothing", async () => {
    const dir = await tempDir();
    const shown = await dockernet(["service", "install", "warp", "--timer", "5m", "--dry-run", "--unit-dir", dir, "--binary", unitBinary]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`# ${dir}/dockernet-warp.service\n# Installed by \`dockernet service install warp --timer 5min\``);
    expect(shown.stdout).toContain(`\nExecStart=${unitBinary} warp --once\n`);
    expect(shown.stdout).toContain(`# ${dir}/dockernet-warp.timer\n`);
    expect(shown.stdout).toContain(`# would write ${dir}/dockernet-warp.timer (0644)`);
    expect(await readdir(dir)).toEqual([]);

    await dockernet(["service", "install", "warp", "--unit-dir", dir, "--binary", unitBinary]);
    const kept = await dockernet(["service", "uninstall", "warp", "--dry-run", "--unit-dir", dir]);
    expect(kept.stdout).toContain(`would remove ${dir}/dockernet-warp.service`);
    expect(await readdir(dir)).toEqual(["dockernet-warp.service"]);
  });

  test("a bad mode, timer, path or flag is exit 2 with a message, and writes nothing", async () => {
    const dir = await tempDir();
    const cases: [string[], string][] = [
      [["install", "wrap"], 'unknown mode "wrap"'],
      [["install", "warp", "warp"], "mode warp given twice"],
      [["install", "warp", "--timer", "5x"], '--timer: "5x" is not a duration'],
      [["install", "warp", "--timer", "0"], '--timer: "0" must be longer than 0'],
      [["install", "warp", "--timer", "5s"], "--timer 5s is too short (at least 10s)"],
      [["install", "warp", "join", "--timer", "5m"], "--timer takes one mode"],
      [["install", "warp", "--config", "/tmp/dockernet.toml"], "PrivateTmp=yes"],
      [["install", "warp", "--onse"], "unknown flag --onse"],
      [["uninstall", "flwo"], 'unknown mode "flwo"'],
    ];
    for (const [args, message] of cases) {
      const result = await dockernet(["service", ...args, "--unit-dir", dir, ...(args[0] === "install" ? ["--binary", unitBinary] : [])]);
      expect({ args, code: result.code, error: result.stderr.includes(message) }).toEqual({ args, code: 2, error: true });
    }
    const missing = await dockernet(["service", "install", "warp", "--unit-dir", join(dir, "nope"), "--binary", unitBinary]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`unit directory ${join(dir, "nope")} does not exist`);
    expect(await readdir(dir)).toEqual([]);
  });

  test("every generated unit passes systemd-analyze verify", async () => {
    const analyze = await which("systemd-analyze");
    if (!analyze) {
      throw new Error("systemd-analyze not found: install the systemd package (test/support/setup.sh: add [systemd-analyze]=systemd to its packages)");
    }
    // Paths with a space and a `%`, not under /tmp, to check the quoting as systemd reads it.
    const odd = join(await tempDir("/run"), "bin 100%");
    await mkdir(odd);
    await symlink(unitBinary, join(odd, "dockernet"));
    await writeFile(join(odd, "config $HOME.toml"), '[warp]\ncontainer_pattern = "gw-*"\n');
    const variants = [
      ["warp"],
      ["join"],
      ["run", "warp", "join"],
      ["warp", "--timer", "5m"],
      ["join", "--timer", "90s"],
      ["warp", "--binary", join(odd, "dockernet"), "--config", join(odd, "config $HOME.toml")],
    ];
    for (const variant of variants) {
      const dir = await tempDir();
      const args = variant.includes("--binary") ? variant : [...variant, "--binary", unitBinary];
      const installed = await dockernet(["service", "install", ...args, "--unit-dir", dir]);
      expect(installed.code).toBe(0);
      const units = (await readdir(dir)).map((file) => join(dir, file));
      // verify checks that the units they require exist; Docker's own unit is not ours to check,
      // so a minimal stand-in sits beside ours (verify looks in the units' own folder first).
      await writeFile(join(dir, "docker.service"), "[Unit]\nDescription=stand-in for Docker\n[Service]\nExecStart=/bin/true\n");
      const verified = await exec(analyze, ["verify", "--man=no", ...units], { allowFail: true });
      // Unknown or unparsable settings are only warnings: a clean unit prints nothing at all.
      expect({ variant, ...verified }).toEqual({ variant, stdout: "", stderr: "", code: 0 });
    }
  });
});

describe("the unit's sandbox, applied the way systemd applies it", () => {
  const engine = useTestEngine({ name: "dntest-service", subnet: 111 });

  /** `setpriv --bounding-set` syntax for the CapabilityBoundingSet= of the unit `service install` writes for `mode`. */
  async function boundingSet(mode: string): Promise<string> {
    const shown = await dockernet(["service", "install", mode, "--dry-run", "--binary", unitBinary]);
    const line = shown.stdout.split("\n").find((text) => text.startsWith("CapabilityBoundingSet="));
    if (line === undefined) throw new Error(`no CapabilityBoundingSet= in:\n${shown.stdout}`);
    const caps = line.slice("CapabilityBoundingSet=".length).split(" ").filter(Boolean);
    return ["-all", ...caps.map((cap) => `+${cap.replace(/^CAP_/, "").toLowerCase()}`)].join(",");
  }

  /**
   * Runs dockernet as root with only `bounds` as bounding set (CapabilityBoundingSet=), no new
   * privileges (NoNewPrivileges=yes), the whole file system read-only (ProtectSystem=strict) and
   * the engine's socket on a read-only bind mount of its own.
   */
  function sandboxed(bounds: string, args: string[]) {
    const script = 'set -e; mount -o remount,bind,ro /; mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"; shift; exec "$@"';
    const setpriv = ["setpriv", "--bounding-set", bounds, "--inh-caps", "-all", "--no-new-privs", "--"];
    return exec("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", engine.dir, ...setpriv, ...args], {
      env: { PATH: process.env.PATH, DOCKER_HOST: engine.host },
      allowFail: true,
    });
  }

  test("the sandbox is really read-only", async () => {
    const probe = await sandboxed("-all", ["touch", join(engine.dir, "probe")]);
    expect(probe.code).not.toBe(0);
    expect(probe.stderr).toContain("Read-only file system");
  });

  test("warp --once routes a target with exactly the unit's capabilities, and fails without any one of them", async () => {
    const bounds = await boundingSet("warp");
    expect(bounds).toBe("-all,+net_admin,+sys_admin,+sys_ptrace");
    const net = await engine.network("vpn", { subnet: "10.61.1.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    const app = await engine.run("app", { network: net.name, labels: { "network.warp.target": "warp-1" } });
    const needed: [cap: string, error: string][] = [
      ["sys_ptrace", "/ns/net of container"],
      ["sys_admin", "reassociate to namespace"],
      ["net_admin", "RTNETLINK answers: Operation not permitted"],
    ];
    for (const [dropped, error] of needed) {
      const without = await sandboxed(bounds.replace(`,+${dropped}`, ""), [binary, "warp", "--once"]);
      expect({ dropped, code: without.code, error: without.stderr.includes(error) }).toEqual({ dropped, code: 1, error: true });
    }
    const routed = await sandboxed(bounds, [binary, "warp", "--once"]);
    expect({ code: routed.code, stderr: routed.stderr }).toMatchObject({ code: 0 });
    expect(await nextHop(app, "1.1.1.1")).toBe(await warp.ip(net.name));
  });

  test("join --once joins the proxy to a network with no capability at all", async () => {
    expect(await boundingSet("join")).toBe("-all");
    const net = await engine.network("apps", { subnet: "10.61.2.0/24" });
    await engine.run("http-proxy");
    await engine.run("web", { network: net.name, env: { VIRTUAL_HOST: "web.example" } });
    const joined = await sandboxed("-all", [binary, "join", "--once"]);
    expect({ code: joined.code, stderr: joined.stderr }).toMatchObject({ code: 0 });
    const networks = await engine.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "http-proxy"]);
    expect(Object.keys(JSON.parse(networks.stdout) as object)).toContain(net.name);
  });
});
