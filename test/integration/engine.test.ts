import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { gone } from "../support/_exec.ts";
import { TestEngine } from "../support/engine.ts";
import { waitFor } from "../support/wait.ts";

const NAME = "dntest-smoke";

describe("TestEngine", () => {
  test("runs containers, survives a daemon restart and cleans up", async () => {
    const engine = await TestEngine.start({ name: NAME, subnet: 91 });
    try {
      expect(existsSync(`/run/netns/${NAME}`)).toBe(true);
      const net = await engine.network("smoke-net", { subnet: "10.91.7.0/24", gateway: "10.91.7.1" });
      const a = await engine.run("t-1", { network: net.name, ip: "10.91.7.10", labels: { role: "a" } });
      const b = await engine.run("t-2", { network: net.name, restart: "always" });

      expect(await a.ip()).toBe("10.91.7.10");
      expect(await a.ip(net.name)).toBe("10.91.7.10");
      const routes = await a.routes();
      expect(routes.find((r) => r.dst === "default")?.gateway).toBe("10.91.7.1");
      expect(routes.every((r) => Array.isArray(r.flags))).toBe(true);
      expect(await a.routesText()).toBe(await a.routesText());
      expect((await a.exec(["ping", "-c", "1", "-W", "2", await b.ip()])).code).toBe(0);
      expect((await a.nsExec(["false"])).code).not.toBe(0);

      const before = await b.pid();
      await engine.restart();
      const after = await waitFor("t-2 running again after the restart", () => b.pid().catch(() => 0), 20_000, 100);
      expect(after).not.toBe(before);
      expect((await b.exec(["true"])).code).toBe(0);
      await expect(a.pid()).rejects.toThrow(/not running/);

      await engine.cleanup();
      expect((await engine.docker(["ps", "-aq"])).stdout.trim()).toBe("");
    } finally {
      await engine.stop();
    }
    expect(existsSync(`/run/netns/${NAME}`)).toBe(false);
    expect(existsSync(engine.dir)).toBe(false);
  }, 60_000);

  test("starts cleanly after a killed run", async () => {
    const killed = await TestEngine.start({ name: NAME, subnet: 91 });
    const c = await killed.run("t-killed", {});
    const containerPid = await c.pid();
    const daemonPid = Number(await readFile(`${killed.dir}/docker.pid`, "utf8"));
    process.kill(daemonPid, "SIGKILL");
    await waitFor("the killed dockerd gone", () => gone(daemonPid), 20_000, 100);
    // The namespace, socket, pid file and the container's processes are left behind.
    expect(existsSync(`/run/netns/${NAME}`)).toBe(true);
    expect(existsSync(killed.socketPath)).toBe(true);
    expect(await gone(containerPid)).toBe(false);

    const engine = await TestEngine.start({ name: NAME, subnet: 91 });
    try {
      expect(await gone(containerPid)).toBe(true);
      expect((await engine.docker(["ps", "-aq"])).stdout.trim()).toBe("");
      const fresh = await engine.run("t-fresh", {});
      expect(await fresh.pid()).toBeGreaterThan(0);
    } finally {
      await engine.stop();
    }
    expect(existsSync(`/run/netns/${NAME}`)).toBe(false);
  }, 60_000);
});

