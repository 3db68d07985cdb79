import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Daemon, dockernet, waitFor } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";
import { nextHop } from "../support/routing.ts";

setDefaultTimeout(60_000);

const engine = useTestEngine({ name: "dntest-run", subnet: 97 });

async function networksOf(name: string): Promise<string[]> {
  const shown = await engine.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", name]);
  return Object.keys(JSON.parse(shown.stdout) as Record<string, unknown>).sort();
}

describe("dockernet run", () => {
  test("`run warp join` routes a warp target and joins a network in one process, on one events stream", async () => {
    const vpn = await engine.network("vpn", { subnet: "10.70.100.0/24" });
    const web = await engine.network("web", { subnet: "10.70.101.0/24" });
    const warp = await engine.run("warp-1", { network: vpn.name });
    await engine.run("http-proxy");
    await using daemon = await Daemon.start(engine, ["run", "warp", "join", "--log-level", "debug"], { ready: "join started" });

    // Both modes react to containers started after the daemon, through the same stream.
    const target = await engine.run("app-1", { network: vpn.name, labels: { "network.warp.target": "warp-1" } });
    await engine.run("site-1", { network: web.name, env: { VIRTUAL_HOST: "site.example" } });
    const via = await warp.ip(vpn.name);
    await waitFor("app-1 routed via warp-1", async () => (await nextHop(target, "1.1.1.1")) === via);
    await waitFor("the proxy on web", async () => (await networksOf("http-proxy")).includes("web"));
    // The engine shows the network before dockernet has its answer and logs it.
    await waitFor("join's log line", () => daemon.find((line) => line.msg === "network joined").length > 0);

    expect(daemon.find((line) => line.msg === "events stream open")).toHaveLength(1);
    expect(daemon.find((line) => line.msg === "warp started")).toMatchObject([{ tag: "warp" }]);
    expect(daemon.find((line) => line.msg === "join started")).toMatchObject([{ tag: "join" }]);
    expect(daemon.find((line) => line.msg === "network joined")).toMatchObject([{ tag: "join", network: "web" }]);
    // Reconcilers alone: JavaScriptCore stays reluctant to compile (src/core/runtime.ts).
    expect(daemon.find((line) => line.msg === "JIT policy set")).toMatchObject([{ scale: 16 }]);
    expect(daemon.find((line) => line.level === "error")).toEqual([]);
    const { code, ms } = await daemon.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
  });

  test("a fatal join error stops every mode and exits 1", async () => {
    const tiny = await engine.network("tiny", { subnet: "10.70.102.0/30" });
    await engine.run("http-proxy");
    await using daemon = await Daemon.start(engine, ["run", "warp", "join"], { ready: "join started" });
    await engine.run("tiny-app", { network: tiny.name, env: { VIRTUAL_HOST: "x.example" } }); // takes the one free address
    expect(await daemon.exited(15_000)).toBe(1);
    expect(daemon.find((line) => line.msg === "stopping after a fatal error")).toMatchObject([{ mode: "join" }]);
    expect(daemon.find((line) => line.msg === "stopped")).toHaveLength(1);
  });

  test("usage errors: no mode, an unknown or repeated mode, an unknown flag (exit 2)", async () => {
    for (const [args, message] of [
      [["run"], "Missing required positional argument: MODES"],
      [["run", "warp", "flwo"], 'unknown mode "flwo"'],
      [["run", "join", "join"], "mode join given twice"],
      [["run", "join", "--once"], "unknown flag --once"],
    ] as const) {
      const result = await dockernet(engine, [...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    }
    for (const command of ["run", "join"]) {
      const help = await dockernet(engine, [command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("Examples:");
      expect(help.stdout).toContain(`dockernet ${command === "run" ? "run warp join" : "join --once --dry-run"}`);
    }
    const action = await dockernet(engine, ["join", "stats"]);
    expect(action.code).toBe(2);
    expect(action.stderr).toContain('unknown join action "stats"');
  });
});
