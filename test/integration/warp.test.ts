import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { useTestEngine } from "../support/engine.ts";
import { Daemon, dockernet, waitFor } from "../support/dockernet.ts";
import { dockernetRules, nextHop, warpRoutes } from "../support/routing.ts";

setDefaultTimeout(60_000);

const engine = useTestEngine({ name: "dntest-warp", subnet: 92 });

const target = (warp: string, extra: Record<string, string> = {}) => ({ "network.warp.target": warp, ...extra });

describe("warp daemon", () => {
  test("routes a target started after the daemon through its warp container", async () => {
    const net = await engine.network("vpn", { subnet: "10.60.1.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    await using daemon = await Daemon.start(engine, ["warp"]);
    const app = await engine.run("app-1", { network: net.name, labels: target("warp-1") });
    const via = await warp.ip(net.name);
    await waitFor("app-1 to route via warp-1", async () => (await nextHop(app, "1.1.1.1")) === via);
    expect(await warpRoutes(app)).toEqual([`default via ${via}`]);
    expect(await dockernetRules(app)).toHaveLength(2);
    // Its own network stays directly reachable.
    expect(await nextHop(app, "10.60.1.200")).toBe("direct");
    const audit = daemon.find((line) => line.msg === "route changed" && line.container === "app-1");
    expect(audit.length).toBeGreaterThan(0);
    expect(audit[0]).toMatchObject({ level: "info", tag: "warp", result: "ok", pid: await app.pid() });
    expect(String(audit[0]?.command)).toContain("ip route replace default via");
  });

  test("re-routes within 2 s when the warp container restarts onto a new IP; blocks while it is down", async () => {
    const net = await engine.network("vpn", { subnet: "10.60.2.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    const app = await engine.run("app-1", { network: net.name, labels: target("warp-1") });
    await using daemon = await Daemon.start(engine, ["warp"]);
    const oldIp = await warp.ip(net.name);
    await waitFor("initial route", async () => (await nextHop(app, "1.1.1.1")) === oldIp);

    await warp.stop();
    await waitFor("the kill switch", async () => (await nextHop(app, "1.1.1.1")) === "unreachable");
    expect(await warpRoutes(app)).toEqual(["default"]); // `unreachable default`: nothing leaks
    expect(await nextHop(app, "10.60.2.1")).toBe("direct"); // its own network still works

    // Another container takes the old address, so the warp container comes back on a new one.
    await engine.run("squatter", { network: net.name, ip: oldIp });
    await warp.start();
    const started = performance.now();
    const newIp = await warp.ip(net.name);
    expect(newIp).not.toBe(oldIp);
    await waitFor("route via the new IP", async () => (await nextHop(app, "1.1.1.1")) === newIp, 2000, 10);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(daemon.find((line) => line.level === "error")).toEqual([]);
  });

  test("follows network connect and disconnect of the target", async () => {
    const a = await engine.network("net-a", { subnet: "10.60.3.0/24" });
    const b = await engine.network("net-b", { subnet: "10.60.4.0/24" });
    const warp = await engine.run("warp-1", { network: b.name });
    const app = await engine.run("app-1", { network: a.name, labels: target("warp-1") });
    await using daemon = await Daemon.start(engine, ["warp"]);
    // No shared network yet: an error for app-1, nothing changed.
    await waitFor("the no-shared-network error", () => daemon.find((line) => line.msg === "cannot route target").length > 0);
    expect(await dockernetRules(app)).toEqual([]);
    await engine.docker(["network", "connect", b.name, "app-1"]);
    const via = await warp.ip(b.name);
    await waitFor("route after connect", async () => (await nextHop(app, "1.1.1.1")) === via);
    // Connecting the warp container to the target's first network makes two shared networks: ambiguous.
    await engine.docker(["network", "connect", a.name, "warp-1"]);
    await waitFor("the ambiguity error", () => daemon.find((line) => String(line.error).includes("share several networks (net-a, net-b)")).length > 0);
    expect(await nextHop(app, "1.1.1.1")).toBe(via); // an error changes nothing
    await engine.docker(["network", "disconnect", b.name, "app-1"]);
    const viaA = await warp.ip(a.name);
    await waitFor("route via net-a after disconnecting net-b", async () => (await nextHop(app, "1.1.1.1")) === viaA);
    expect(await warpRoutes(app)).toEqual([`default via ${viaA}`]);
  });

  test("stops within 2 s on SIGTERM and SIGINT", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const daemon = await Daemon.start(engine, ["warp"]);
      const { code, ms } = await daemon.stop(signal);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(2000);
    }
  });
});

describe("choosing the network", () => {
  test("warp on two networks: the one shared network, then a preference on the target or the warp", async () => {
    const front = await engine.network("front", { subnet: "10.60.5.0/24" });
    const back = await engine.network("back", { subnet: "10.60.6.0/24" });
    const warp = await engine.run("warp-1", { network: [front.name, back.name] });
    const onlyBack = await engine.run("app-back", { network: back.name, labels: target("warp-1") });
    const both = await engine.run("app-both", { network: [front.name, back.name], labels: target("warp-1") });
    const preferring = await engine.run("app-pref", { network: [front.name, back.name], labels: target("warp-1", { "network.warp.network": "front" }) });

    const once = await dockernet(engine, ["warp", "--once"]);
    expect(once.code).toBe(1);
    expect(once.stderr).toContain("app-both and warp-1 share several networks (back, front)");
    expect(await nextHop(onlyBack, "1.1.1.1")).toBe(await warp.ip(back.name));
    expect(await nextHop(preferring, "1.1.1.1")).toBe(await warp.ip(front.name));
    expect(await dockernetRules(both)).toEqual([]); // the ambiguous target is left alone

    // A preference on the warp container settles it for every target that has none.
    await warp.remove();
    const preferred = await engine.run("warp-1", { network: [front.name, back.name], labels: { "network.warp.network": "back" } });
    const again = await dockernet(engine, ["warp", "--once"]);
    expect(again.code).toBe(0);
    expect(await nextHop(both, "1.1.1.1")).toBe(await preferred.ip(back.name));
    expect(await nextHop(preferring, "1.1.1.1")).toBe(await preferred.ip(front.name));
  });

  test("no shared network: an error naming both containers and their networks", async () => {
    const a = await engine.network("net-a", { subnet: "10.60.7.0/24" });
    const b = await engine.network("net-b", { subnet: "10.60.8.0/24" });
    await engine.run("warp-1", { network: a.name });
    const app = await engine.run("app-1", { network: b.name, labels: target("warp-1") });
    const before = await app.routesText();
    const once = await dockernet(engine, ["warp", "--once"]);
    expect(once.code).toBe(1);
    expect(once.stderr).toContain("app-1 and warp-1 share no network (app-1 is on net-b, warp-1 is on net-a)");
    expect(await app.routesText()).toBe(before);
  });
});

describe("bad labels", () => {
  test("each bad label is one clear error; the daemon keeps routing the others; bystanders stay byte-identical", async () => {
    const net = await engine.network("vpn", { subnet: "10.60.9.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    const bystander = await engine.run("bystander", { network: net.name });
    const bystanderBefore = [await bystander.routesText(), (await bystander.nsExec(["ip", "rule", "show"])).stdout];
    const bad = {
      "bad-cidr": target("warp-1", { "network.warp.routes": "10.0.0.0/33" }),
      "bad-warp": target("db-1"),
      "bad-shell": target("warp-1;reboot"),
      "bad-routes-shell": target("warp-1", { "network.warp.routes": "0.0.0.0/0;touch /tmp/pwned" }),
      "bad-huge": target("warp-1", { "network.warp.routes": "1".repeat(10_000) }),
    };
    for (const [name, labels] of Object.entries(bad)) await engine.run(name, { network: net.name, labels });
    await using daemon = await Daemon.start(engine, ["warp"]);
    const good = await engine.run("good", { network: net.name, labels: target("warp-1") });
    await waitFor("good to be routed", async () => (await nextHop(good, "1.1.1.1")) === (await warp.ip(net.name)));

    const errors = daemon.find((line) => line.msg === "cannot route target");
    const byContainer = new Map(errors.map((line) => [line.container, String(line.error)]));
    expect(byContainer.get("bad-cidr")).toContain('label network.warp.routes: "10.0.0.0/33" is not a CIDR');
    expect(byContainer.get("bad-warp")).toContain('"db-1" does not match warp.container_pattern "warp-*"');
    expect(byContainer.get("bad-shell")).toContain("is not a container name");
    expect(byContainer.get("bad-routes-shell")).toContain("not allowed");
    expect(byContainer.get("bad-huge")).toContain("too long");
    expect(byContainer.get("bad-huge")!.length).toBeLessThan(400);
    expect(errors).toHaveLength(5); // once each, not once per event or resync
    for (const name of Object.keys(bad)) {
      const rules = await engine.docker(["exec", name, "ip", "rule", "show"]);
      expect(rules.stdout).not.toMatch(/^52\d\d:/m);
    }
    expect([await bystander.routesText(), (await bystander.nsExec(["ip", "rule", "show"])).stdout]).toEqual(bystanderBefore);
  });
});

describe("one-shot commands", () => {
  test("--once routes and exits 0; --dry-run prints the plan and changes nothing; status reads the real tables", async () => {
    const net = await engine.network("vpn", { subnet: "10.60.10.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    const app = await engine.run("app-1", { network: net.name, labels: target("warp-1", { "network.warp.routes": "10.0.0.0/8,192.168.0.0/16" }) });
    const via = await warp.ip(net.name);
    const before = await app.routesText();

    const dry = await dockernet(engine, ["warp", "--once", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`app-1 (pid ${await app.pid()}): via warp-1 ${via} on vpn`);
    expect(dry.stdout).toContain(`ip route replace 10.0.0.0/8 via ${via} table 211 proto 211`);
    expect(await app.routesText()).toBe(before);
    expect(await warpRoutes(app)).toEqual([]);

    const missing = JSON.parse((await dockernet(engine, ["warp", "status", "--json"])).stdout);
    expect(missing).toMatchObject([{ target: "app-1", warp: "warp-1", network: "vpn", via: null, routes: [], state: "missing" }]);

    const once = await dockernet(engine, ["warp", "--once"]);
    expect(once.code).toBe(0);
    expect(await nextHop(app, "10.1.2.3")).toBe(via);
    expect(await nextHop(app, "1.1.1.1")).toBe("10.60.10.1"); // not a rule: Docker's route

    const ok = JSON.parse((await dockernet(engine, ["warp", "status", "--json"])).stdout);
    expect(ok).toMatchObject([{ target: "app-1", warp: "warp-1", network: "vpn", via, state: "ok" }]);
    expect(ok[0].routes.sort()).toEqual([`10.0.0.0/8 via ${via} table 211`, `192.168.0.0/16 via ${via} table 211`]);
    expect(ok[0].killSwitch).toBe("armed");
    expect(ok[0].rules).toEqual(["5210 suppress_prefixlength 0 lookup main", "5250 lookup 211"]);

    // A route changed by hand is seen as stale, from the table itself.
    await app.nsExec(["ip", "route", "replace", "10.0.0.0/8", "via", "10.60.10.1", "table", "211", "proto", "211"]);
    const table = await dockernet(engine, ["warp", "status"]);
    expect(table.stdout).toMatch(/TARGET\s+WARP\s+NETWORK\s+VIA\s+ROUTES\s+KILL-SWITCH\s+STATE/);
    expect(table.stdout).toMatch(/app-1\s+warp-1\s+vpn\s+\S+\s+\S+\s+armed\s+stale/);
    expect(table.stdout).toContain(`app-1: drift, would run: ip route replace 10.0.0.0/8 via ${via} table 211 proto 211`);
    const repaired = await dockernet(engine, ["warp", "--once"]);
    expect(repaired.code).toBe(0);
    expect(await nextHop(app, "10.1.2.3")).toBe(via);
    const again = await dockernet(engine, ["warp", "--once", "--dry-run"]);
    expect(again.stdout).toContain("app-1");
    expect(again.stdout).toContain("up to date");
  });
});

describe("engine restarts", () => {
  test("the daemon reconnects, replays and leaves every target right after dockerd restarts", async () => {
    const net = await engine.network("vpn", { subnet: "10.60.11.0/24" });
    const warp = await engine.run("warp-1", { network: net.name, restart: "always" });
    const apps = await Promise.all(["app-1", "app-2", "app-3"].map((name) => engine.run(name, { network: net.name, labels: target("warp-1"), restart: "always" })));
    await using daemon = await Daemon.start(engine, ["warp"]);
    for (const app of apps) await waitFor("initial route", async () => (await nextHop(app, "1.1.1.1")) === (await warp.ip(net.name)));
    const pidsBefore = await Promise.all(apps.map((app) => app.pid()));

    await engine.restart();
    await waitFor("the events stream to be lost", () => daemon.find((line) => line.msg === "events stream lost, reconnecting").length > 0, 15_000);
    for (const app of apps) {
      await waitFor(`${app.name} routed again after the restart`, async () => (await nextHop(app, "1.1.1.1")) === (await warp.ip(net.name)), 40_000, 100);
    }
    expect(await Promise.all(apps.map((app) => app.pid()))).not.toEqual(pidsBefore);
    const status = JSON.parse((await dockernet(engine, ["warp", "status", "--json"])).stdout);
    expect(status.map((row: { state: string }) => row.state)).toEqual(["ok", "ok", "ok"]);
  });
});
