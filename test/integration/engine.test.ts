import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { TestEngine } from "../support/engine.ts";

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
      const after = await waitFor(() => b.pid().catch(() => 0));
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
    await waitFor(() => gone(daemonPid));
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

/** Polls `probe` every 100 ms for up to 20 s until it returns something truthy. */
async function waitFor<T>(probe: () => Promise<T>): Promise<T> {
  for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 100))) {
    const value = await probe();
    if (value || Date.now() > deadline) return value;
  }
}

/** True when the process no longer exists or is a zombie. */
async function gone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}
