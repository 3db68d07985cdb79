import { describe, expect, test } from "bun:test";
import type { NetnsDesired } from "../../src/modes/warp/desired.ts";
import { planTarget, type TargetPlan } from "../../src/modes/warp/plan.ts";
import { container, desired, net, warpConfig } from "./_warp-fixtures.ts";

const config = warpConfig();
const warp = container("warp-1", { networks: [net("edge", "172.20.0.3")] });
const stopped = container("warp-1", { running: false, networks: [net("edge", "172.20.0.3")] });
const noAddress = container("warp-1", { networks: [net("edge")] });
const target = (labels: Record<string, string> = {}, networks = [net("edge", "172.20.0.2")]) =>
  container("app", { labels: { "network.warp.target": "warp-1", ...labels }, networks });
const ref = { id: target().id, name: "app", pid: 4242 };

function errorOf(plan: TargetPlan): string {
  if (plan.kind !== "error") throw new Error(`expected an error plan, got ${JSON.stringify(plan)}`);
  return plan.error;
}

describe("planTarget: a gateway that is down blocks by default (kill switch)", () => {
  test("warp container missing", () => {
    expect(planTarget(target(), undefined, config)).toEqual({
      kind: "block",
      target: ref,
      warp: "warp-1",
      reason: "warp container warp-1 does not exist",
      desired: desired(["0.0.0.0/0"], { via: undefined, block: true }),
    });
  });

  test("warp container stopped", () => {
    expect(planTarget(target(), stopped, config)).toMatchObject({ kind: "block", reason: "warp container warp-1 is not running" });
  });

  test("warp container without an IPv4 address on the shared network", () => {
    expect(planTarget(target(), noAddress, config)).toMatchObject({ kind: "block", warp: "warp-1", reason: "warp container warp-1 has no IPv4 address on edge" });
  });

  test("the block covers the target's own rules, published ports and IPv6", () => {
    const app = container("app", {
      labels: { "network.warp.target": "warp-1", "network.warp.routes": "10.0.0.0/8,0.0.0.0/0" },
      networks: [net("edge", "172.20.0.2", "fd00:20::2")],
      published: [{ proto: "tcp", port: 80 }],
    });
    const plan = planTarget(app, stopped, config);
    expect(plan).toMatchObject({ kind: "block" });
    if (plan.kind !== "block") return;
    expect(plan.desired).toEqual(desired(["10.0.0.0/8", "0.0.0.0/0"], { via: undefined, block: true, ipv6: true, published: [{ proto: "tcp", port: 80 }] }));
    expect(plan.desired.routes.every((route) => route.via === undefined)).toBe(true);
    expect(plan.desired.families).toEqual([4, 6]);
  });
});

describe("planTarget: restore instead of block", () => {
  const empty4: NetnsDesired = { routes: [], rules: [], families: [4] };

  test("warp.on_gateway_down = restore: dockernet's rules and routes go, Docker's route is used", () => {
    expect(planTarget(target(), undefined, warpConfig({ on_gateway_down: "restore" }))).toEqual({
      kind: "restore",
      target: ref,
      warp: "warp-1",
      reason: "warp container warp-1 does not exist",
      desired: empty4,
    });
    expect(planTarget(target(), stopped, warpConfig({ on_gateway_down: "restore" }))).toMatchObject({ kind: "restore", reason: "warp container warp-1 is not running" });
    expect(planTarget(target(), noAddress, warpConfig({ on_gateway_down: "restore" }))).toMatchObject({ kind: "restore" });
  });

  test("the label network.warp.on_down overrides the config either way", () => {
    expect(planTarget(target({ "network.warp.on_down": "restore" }), stopped, config)).toMatchObject({ kind: "restore", desired: empty4 });
    expect(planTarget(target({ "network.warp.on_down": "block" }), stopped, warpConfig({ on_gateway_down: "restore" }))).toMatchObject({ kind: "block" });
  });

  test("an IPv6 target's restore reads and cleans both families", () => {
    const app = target({ "network.warp.on_down": "restore" }, [net("edge", "172.20.0.2", "fd00:20::2")]);
    expect(planTarget(app, stopped, config)).toMatchObject({ kind: "restore", desired: { routes: [], rules: [], families: [4, 6] } });
  });

  test("the route plan records what happens when the gateway goes down", () => {
    expect(planTarget(target(), warp, config)).toMatchObject({ kind: "route", onDown: "block" });
    expect(planTarget(target(), warp, warpConfig({ on_gateway_down: "restore" }))).toMatchObject({ kind: "route", onDown: "restore" });
    expect(planTarget(target({ "network.warp.on_down": "block" }), warp, warpConfig({ on_gateway_down: "restore" }))).toMatchObject({ onDown: "block" });
    expect(planTarget(target({ "network.warp.on_down": "restore" }), warp, config)).toMatchObject({ onDown: "restore" });
  });

  test("a bad on_down label is an error, even while the gateway is down", () => {
    for (const gateway of [warp, stopped, undefined]) {
      expect(errorOf(planTarget(target({ "network.warp.on_down": "ignore" }), gateway, config))).toBe(
        'container app: label network.warp.on_down: "ignore" is not one of block, restore',
      );
    }
  });
});

describe("planTarget: MTU", () => {
  test("warp.mtu locks the MTU of the routes via the gateway", () => {
    const plan = planTarget(target(), warp, warpConfig({ mtu: 1280 }));
    expect(plan).toMatchObject({ kind: "route", desired: desired(["0.0.0.0/0"], { mtu: 1280 }) });
  });

  test("the label network.warp.mtu overrides the config; 0 turns it off", () => {
    expect(planTarget(target({ "network.warp.mtu": "1380" }), warp, warpConfig({ mtu: 1280 }))).toMatchObject({ desired: { routes: [{ mtu: 1380 }] } });
    const off = planTarget(target({ "network.warp.mtu": "0" }), warp, warpConfig({ mtu: 1280 }));
    expect(off).toMatchObject({ kind: "route", desired: desired(["0.0.0.0/0"]) });
    if (off.kind === "route") expect("mtu" in off.desired.routes[0]!).toBe(false);
  });

  test("no MTU on unreachable routes", () => {
    const plan = planTarget(target({ "network.warp.mtu": "1380" }), stopped, config);
    expect(plan).toMatchObject({ kind: "block", desired: { routes: [{ family: 4, table: "211", dst: "default" }] } });
    if (plan.kind === "block") expect("mtu" in plan.desired.routes[0]!).toBe(false);
  });

  test("a bad mtu label is an error naming container, label and value", () => {
    expect(errorOf(planTarget(target({ "network.warp.mtu": "big" }), warp, config))).toBe('container app: label network.warp.mtu: "big" is not an MTU (a number)');
    expect(errorOf(planTarget(target({ "network.warp.mtu": "100" }), warp, config))).toBe(
      "container app: label network.warp.mtu: 100 is not an MTU between 576 and 9216 (or 0 for none)",
    );
  });
});

describe("planTarget: IPv6, port rules and published ports are planned", () => {
  test("an IPv6 target routes ::/0 via the warp container's IPv6 address", () => {
    const app = target({}, [net("edge", "172.20.0.2", "fd00:20::2")]);
    const gateway = container("warp-1", { networks: [net("edge", "172.20.0.3", "fd00:20::3")] });
    expect(planTarget(app, gateway, config)).toEqual({
      kind: "route",
      target: ref,
      warp: "warp-1",
      network: "edge",
      via: "172.20.0.3",
      via6: "fd00:20::3",
      onDown: "block",
      desired: desired(["0.0.0.0/0"], { ipv6: true, via6: "fd00:20::3" }),
    });
  });

  test("a warp container without IPv6: the target's IPv6 default is unreachable", () => {
    const plan = planTarget(target({}, [net("edge", "172.20.0.2", "fd00:20::2")]), warp, config);
    expect(plan).toMatchObject({ kind: "route", desired: { families: [4, 6] } });
    if (plan.kind !== "route") return;
    expect("via6" in plan).toBe(false);
    expect(plan.desired.routes).toEqual([
      { family: 4, table: "211", dst: "default", via: "172.20.0.3" },
      { family: 6, table: "211", dst: "default" },
    ]);
  });

  test("IPv6 and port rules from labels are planned, no longer refused", () => {
    const app = target({ "network.warp.routes": "192.168.0.0/16,10.0.0.0/8:tcp:80-443,10.0.0.0/8:udp,2001:db8::/32" }, [net("edge", "172.20.0.2", "fd00:20::2")]);
    const gateway = container("warp-1", { networks: [net("edge", "172.20.0.3", "fd00:20::3")] });
    const plan = planTarget(app, gateway, config);
    expect(plan).toMatchObject({
      kind: "route",
      desired: desired(["192.168.0.0/16", "10.0.0.0/8:tcp:80-443", "10.0.0.0/8:udp", "2001:db8::/32"], { ipv6: true, via6: "fd00:20::3" }),
    });
    if (plan.kind !== "route") return;
    expect(plan.desired.rules.filter((rule) => rule.table === "212").map((rule) => rule.priority)).toEqual([5220, 5221]);
  });

  test("the target's published ports get reply rules", () => {
    const app = container("app", { labels: { "network.warp.target": "warp-1" }, networks: [net("edge", "172.20.0.2")], published: [{ proto: "tcp", port: 80 }] });
    const plan = planTarget(app, warp, config);
    expect(plan).toMatchObject({ kind: "route", desired: desired(["0.0.0.0/0"], { published: [{ proto: "tcp", port: 80 }] }) });
    if (plan.kind === "route") expect(plan.desired.rules[0]).toEqual({ family: 4, priority: 5200, ipproto: "tcp", sport: { lo: 80, hi: 80 }, table: "main" });
  });

  test("too many published port ranges is an error naming the container, while routed or blocked", () => {
    const published = Array.from({ length: 11 }, (_, index) => ({ proto: "tcp" as const, port: 1000 + index * 2 }));
    const app = container("app", { labels: { "network.warp.target": "warp-1" }, networks: [net("edge", "172.20.0.2")], published });
    for (const gateway of [warp, stopped]) {
      expect(planTarget(app, gateway, config)).toEqual({ kind: "error", target: ref, warp: "warp-1", error: "container app: 11 published port ranges; at most 10" });
    }
  });
});
