import { describe, expect, test } from "bun:test";
import type { NetnsDesired } from "../../src/modes/warp/desired.ts";
import { planTarget, type TargetPlan } from "../../src/modes/warp/plan.ts";
import { container, desired, net, warpConfig } from "./_warp-fixtures.ts";

const config = warpConfig();
const warp = container("warp-1", { networks: [net("edge", "172.20.0.3")] });
const target = (labels: Record<string, string> = {}, networks = [net("edge", "172.20.0.2")], networkMode?: string) =>
  container("app", { labels: { "network.warp.target": "warp-1", ...labels }, networks, networkMode });

function errorOf(plan: TargetPlan): string {
  if (plan.kind !== "error") throw new Error(`expected an error plan, got ${JSON.stringify(plan)}`);
  return plan.error;
}

describe("planTarget: choosing the network", () => {
  test("routes via the warp container's address on the one network they share", () => {
    const app = target({}, [net("edge", "172.20.0.2"), net("backend", "172.21.0.2")]);
    const gateway = container("warp-1", { networks: [net("edge", "172.20.0.3"), net("wan", "172.22.0.3")] });
    expect(planTarget(app, gateway, config)).toEqual({
      kind: "route",
      target: { id: app.id, name: "app", pid: 4242 },
      warp: "warp-1",
      network: "edge",
      via: "172.20.0.3",
      onDown: "block",
      desired: desired(["0.0.0.0/0"]),
    });
  });

  const twoShared = [net("edge", "172.20.0.2"), net("lan", "172.21.0.2")];
  const warpOnBoth = (labels: Record<string, string> = {}) =>
    container("warp-1", { labels, networks: [net("edge", "172.20.0.3"), net("lan", "172.21.0.3")] });

  test("the target's network label picks among shared networks", () => {
    const plan = planTarget(target({ "network.warp.network": "lan" }, twoShared), warpOnBoth(), config);
    expect(plan).toMatchObject({ kind: "route", network: "lan", via: "172.21.0.3" });
  });

  test("the warp container's network label picks when the target has none", () => {
    const plan = planTarget(target({}, twoShared), warpOnBoth({ "network.warp.network": "lan" }), config);
    expect(plan).toMatchObject({ kind: "route", network: "lan", via: "172.21.0.3" });
  });

  test("the target's preference wins over the warp container's", () => {
    const plan = planTarget(target({ "network.warp.network": "edge" }, twoShared), warpOnBoth({ "network.warp.network": "lan" }), config);
    expect(plan).toMatchObject({ kind: "route", network: "edge", via: "172.20.0.3" });
  });

  test("a preferred network that is not shared is an error naming both containers and their networks", () => {
    const app = target({ "network.warp.network": "lan" }, [net("lan", "172.21.0.2"), net("edge", "172.20.0.2")]);
    const error = errorOf(planTarget(app, warp, config));
    expect(error).toContain("network lan (from label network.warp.network on app) is not shared");
    expect(error).toContain("app is on lan, edge");
    expect(error).toContain("warp-1 is on edge");
  });

  test("a preference from the warp container says so when it is not shared", () => {
    const gateway = container("warp-1", { labels: { "network.warp.network": "wan" }, networks: [net("edge", "172.20.0.3"), net("wan", "172.22.0.3")] });
    expect(errorOf(planTarget(target(), gateway, config))).toContain("network wan (from label network.warp.network on warp-1) is not shared");
  });

  test("no shared network is an error listing both sides", () => {
    const app = target({}, [net("backend", "172.21.0.2")]);
    expect(errorOf(planTarget(app, warp, config))).toBe(
      "container app: app and warp-1 share no network (app is on backend, warp-1 is on edge)",
    );
  });

  test("a container on no network at all reads as `none`", () => {
    const app = target({}, [], "bridge");
    expect(errorOf(planTarget(app, warp, config))).toContain("app is on none");
  });

  test("several shared networks without a preference list the candidates in the target's order", () => {
    const app = target({}, [net("zeta", "10.9.0.2"), net("alpha", "10.8.0.2"), net("mid", "10.7.0.2")]);
    const gateway = container("warp-1", { networks: [net("alpha", "10.8.0.3"), net("mid", "10.7.0.3"), net("zeta", "10.9.0.3")] });
    const error = errorOf(planTarget(app, gateway, config));
    expect(error).toContain("share several networks (zeta, alpha, mid)");
    expect(error).toContain("network.warp.network");
  });
});

describe("planTarget: targets that cannot be routed", () => {
  test("a target label that does not match warp.container_pattern", () => {
    const app = target({ "network.warp.target": "gateway" });
    const plan = planTarget(app, container("gateway", { networks: [net("edge", "172.20.0.3")] }), config);
    expect(plan).toMatchObject({ kind: "error", warp: "gateway" });
    expect(errorOf(plan)).toBe('container app: label network.warp.target: "gateway" does not match warp.container_pattern "warp-*"');
  });

  test("a target naming itself", () => {
    const self = container("warp-self", { labels: { "network.warp.target": "warp-self" }, networks: [net("edge", "172.20.0.3")] });
    expect(errorOf(planTarget(self, self, config))).toContain("a container cannot be its own warp container");
  });

  for (const mode of ["host", "none", "container:0123abcd"]) {
    test(`network mode ${mode}`, () => {
      const error = errorOf(planTarget(target({}, [], mode), warp, config));
      expect(error).toBe(`container app: network mode ${mode} has no network namespace of its own to route`);
    });
  }

  test("a user network whose name merely starts with host or none is routed like any other", () => {
    for (const name of ["hosting", "none-such"]) {
      const app = target({}, [net(name, "172.20.0.2")], name);
      const gateway = container("warp-1", { networks: [net(name, "172.20.0.3")] });
      expect(planTarget(app, gateway, config)).toMatchObject({ kind: "route", network: name });
    }
  });

  test("too many port rules is an error naming the container", () => {
    const rules = Array.from({ length: 31 }, (_, index) => `10.0.0.0/8:tcp:${index + 1}`).join(",");
    expect(errorOf(planTarget(target({ "network.warp.routes": rules }), warp, config))).toBe("container app: 31 port rules for IPv4; at most 30");
  });
});

describe("planTarget: labels", () => {
  test("a bad CIDR in network.warp.routes names the container, label and value", () => {
    const error = errorOf(planTarget(target({ "network.warp.routes": "10.0.0.0/8,10.300.0.0/16" }), warp, config));
    expect(error).toBe('container app: label network.warp.routes: "10.300.0.0/16" is not a CIDR');
  });

  test("shell metacharacters in the target name are refused before anything looks it up", () => {
    const plan = planTarget(target({ "network.warp.target": "warp-1; rm -rf /" }), warp, config);
    expect(plan).toEqual({ kind: "error", target: { id: target().id, name: "app", pid: 4242 }, error: expect.any(String) });
    expect(errorOf(plan)).toBe('container app: label network.warp.target: "warp-1; rm -rf /" is not a container name');
  });

  test("a 10 kB label value gives a short error", () => {
    const huge = "a".repeat(10_240);
    for (const label of ["network.warp.target", "network.warp.network", "network.warp.routes", "network.warp.on_down", "network.warp.mtu"]) {
      const error = errorOf(planTarget(target({ [label]: huge }), warp, config));
      expect(error).toContain(`label ${label}`);
      expect(error.length).toBeLessThan(400);
    }
    const gateway = container("warp-1", { labels: { "network.warp.network": `${huge};$(reboot)` }, networks: [net("edge", "172.20.0.3")] });
    const error = errorOf(planTarget(target(), gateway, config));
    expect(error).toContain("container app");
    expect(error).toContain("container warp-1: label network.warp.network");
    expect(error.length).toBeLessThan(400);
  });

  test("a target without the target label is an error, not a crash", () => {
    const plain = container("app", { networks: [net("edge", "172.20.0.2")] });
    expect(errorOf(planTarget(plain, warp, config))).toBe("container app: no network.warp.target label");
  });

  test("a custom label_prefix is the only one read", () => {
    const custom = warpConfig({ label_prefix: "io.example.warp" });
    const app = container("app", {
      labels: { "io.example.warp.target": "warp-1", "io.example.warp.routes": "10.0.0.0/8", "network.warp.routes": "::/0" },
      networks: [net("edge", "172.20.0.2")],
    });
    expect(planTarget(app, warp, custom)).toMatchObject({ kind: "route", desired: desired(["10.0.0.0/8"]) });
    expect(errorOf(planTarget(target(), warp, custom))).toBe("container app: no io.example.warp.target label");
  });

  test("with a custom label_prefix, the several-networks hint names the custom label", () => {
    const custom = warpConfig({ label_prefix: "io.example.warp" });
    const app = container("app", { labels: { "io.example.warp.target": "warp-1" }, networks: [net("edge", "172.20.0.2"), net("lan", "172.21.0.2")] });
    const gateway = container("warp-1", { networks: [net("edge", "172.20.0.3"), net("lan", "172.21.0.3")] });
    const error = errorOf(planTarget(app, gateway, custom));
    expect(error).toContain("io.example.warp.network");
    expect(error).not.toContain("network.warp.network");
  });

  test("route rules from the label replace the configured ones", () => {
    const plan = planTarget(target({ "network.warp.routes": " 10.1.2.3/8 , 192.168.7.7 ," }), warp, warpConfig({ routes: ["172.16.0.0/12"] }));
    if (plan.kind !== "route") throw new Error(JSON.stringify(plan));
    expect(plan.desired.routes.map((route) => route.dst)).toEqual(["10.0.0.0/8", "192.168.7.7"]);
  });

  test("a custom container_pattern with ? matches one character", () => {
    const pattern = warpConfig({ container_pattern: "gw-?" });
    const gateway = container("gw-a", { networks: [net("edge", "172.20.0.3")] });
    expect(planTarget(target({ "network.warp.target": "gw-a" }), gateway, pattern)).toMatchObject({ kind: "route" });
    expect(planTarget(target({ "network.warp.target": "gw-ab" }), gateway, pattern)).toMatchObject({ kind: "error" });
  });
});

describe("planTarget is pure", () => {
  test("the same input gives a deep-equal plan and the inputs are not mutated", () => {
    const app = target({ "network.warp.routes": "10.0.0.0/8" }, [net("edge", "172.20.0.2"), net("lan", "172.21.0.2")]);
    const gateway = container("warp-1", { labels: { "network.warp.network": "edge" }, networks: [net("edge", "172.20.0.3"), net("lan", "172.21.0.3")] });
    const cfg = warpConfig();
    const before = structuredClone({ app, gateway, cfg });
    // The expected plans, written out: the route via edge, and the kill switch for the same rule.
    const ref = { id: app.id, name: "app", pid: 4242 };
    const rules: NetnsDesired["rules"] = [
      { family: 4, priority: 5210, suppressDefault: true, table: "main" },
      { family: 4, priority: 5250, table: "211" },
    ];
    const route = { family: 4, table: "211", dst: "10.0.0.0/8" } as const;
    const routed: TargetPlan = { kind: "route", target: ref, warp: "warp-1", network: "edge", via: "172.20.0.3", onDown: "block", desired: { routes: [{ ...route, via: "172.20.0.3" }], rules, families: [4] } };
    const blocked = (reason: string): TargetPlan => ({ kind: "block", target: ref, warp: "warp-1", reason, desired: { routes: [route], rules, families: [4] } });
    expect(planTarget(app, gateway, cfg)).toEqual(routed);
    expect(planTarget(app, gateway, cfg)).toEqual(routed);
    expect({ app, gateway, cfg }).toEqual(before);
    expect(planTarget(app, undefined, cfg)).toEqual(blocked("warp container warp-1 does not exist"));
    expect(planTarget(app, { ...gateway, running: false }, cfg)).toEqual(blocked("warp container warp-1 is not running"));
    expect({ app, gateway, cfg }).toEqual(before);
  });
});
