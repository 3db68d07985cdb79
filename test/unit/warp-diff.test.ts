import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { ObservedContainer } from "../../src/docker/types.ts";
import type { NetnsDesired } from "../../src/modes/warp/desired.ts";
import { actionCommand, actionFamily, actionText, diffNetns, ensureActions, type FamilyState, type NetnsAction, type NetnsState } from "../../src/modes/warp/diff.ts";
import { priority, routeFromJson, ruleFromJson, warpTables, type Family, type RouteSpec, type RuleSpec } from "../../src/modes/warp/netns-spec.ts";
import { planTarget, type WarpConfig } from "../../src/modes/warp/plan.ts";
import { parseRoutes, parseRules } from "../../src/net/ip-json.ts";
import { desired, stateOf, warpConfig } from "./_warp-fixtures.ts";

const W = "172.20.0.3";
const W6 = "fd00:20::3";

const ops = (actions: NetnsAction[]) => actions.map(actionText);
const restore: NetnsDesired = { routes: [], rules: [], families: [4] };
const suppressMain: RuleSpec = { family: 4, priority: 5210, suppressDefault: true, table: "main" };
const lookup211: RuleSpec = { family: 4, priority: 5250, table: "211" };

describe("diffNetns", () => {
  test("in sync: nothing to do", () => {
    for (const want of [
      desired(["0.0.0.0/0", "10.0.0.0/8"]),
      desired(["0.0.0.0/0:tcp:443", "10.0.0.0/8"], { mtu: 1280, published: [{ proto: "tcp", port: 80 }] }),
      desired(["0.0.0.0/0"], { ipv6: true, via6: W6 }),
      desired(["0.0.0.0/0"], { via: undefined, block: true, ipv6: true }),
      restore,
    ]) {
      expect(diffNetns(want, stateOf(want))).toEqual([]);
    }
  });

  test("an empty namespace: routes first, then the rules that use them", () => {
    expect(ops(diffNetns(desired(["0.0.0.0/0", "10.0.0.0/8"]), {}))).toEqual([
      `ip route replace default via ${W} table 211 proto 211`,
      `ip route replace 10.0.0.0/8 via ${W} table 211 proto 211`,
      "ip rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule add pref 5250 lookup 211",
    ]);
  });

  test("routed -> blocked is a route-replace to unreachable, with no delete (no gap)", () => {
    const routed = desired(["0.0.0.0/0", "0.0.0.0/0:tcp:443"]);
    const blocked = desired(["0.0.0.0/0", "0.0.0.0/0:tcp:443"], { via: undefined, block: true });
    expect(diffNetns(blocked, stateOf(routed))).toEqual([
      { op: "route-replace", route: { family: 4, table: "212", dst: "default" } },
      { op: "route-replace", route: { family: 4, table: "211", dst: "default" } },
    ]);
    expect(ops(diffNetns(routed, stateOf(blocked)))).toEqual([
      `ip route replace default via ${W} table 212 proto 211`,
      `ip route replace default via ${W} table 211 proto 211`,
    ]);
  });

  test("a new gateway address or MTU replaces the route in place", () => {
    const now = desired(["0.0.0.0/0"], { mtu: 1400 });
    expect(ops(diffNetns(now, stateOf(desired(["0.0.0.0/0"], { via: "172.20.0.9", mtu: 1400 }))))).toEqual([
      `ip route replace default via ${W} table 211 proto 211 mtu lock 1400`,
    ]);
    expect(ops(diffNetns(now, stateOf(desired(["0.0.0.0/0"]))))).toEqual([`ip route replace default via ${W} table 211 proto 211 mtu lock 1400`]);
    expect(ops(diffNetns(desired(["0.0.0.0/0"]), stateOf(now)))).toEqual([`ip route replace default via ${W} table 211 proto 211`]);
  });

  test("a blackhole where a route via the gateway is wanted is replaced", () => {
    const want = desired(["10.9.0.0/16"]);
    const [blackhole] = parseRoutes([{ type: "blackhole", dst: "10.9.0.0/16", protocol: "boot", flags: [] }]);
    expect(ops(diffNetns(want, { 4: { rules: want.rules, routes: [routeFromJson(4, "211", blackhole!)] } }))).toEqual([
      `ip route replace 10.9.0.0/16 via ${W} table 211 proto 211`,
    ]);
  });

  test("a missing rule alone is added", () => {
    const want = desired(["0.0.0.0/0"]);
    expect(diffNetns(want, { 4: { rules: [lookup211], routes: want.routes } })).toEqual([{ op: "rule-add", rule: suppressMain }]);
  });

  test("extra rules and routes are deleted: rules before routes", () => {
    const want = desired(["10.0.0.0/8"]);
    const extraRoute: RouteSpec = { family: 4, table: "211", dst: "8.8.8.8", via: W };
    const extraUnreachable: RouteSpec = { family: 4, table: "212", dst: "default" };
    const extraRule: RuleSpec = { family: 4, priority: 5220, ipproto: "tcp", dport: { lo: 443, hi: 443 }, table: "212" };
    const state: NetnsState = { 4: { rules: [...want.rules, extraRule], routes: [extraRoute, ...want.routes, extraUnreachable] } };
    expect(ops(diffNetns(want, state))).toEqual([
      "ip rule del pref 5220 ipproto tcp dport 443 lookup 212",
      "ip route del 8.8.8.8 table 211",
      "ip route del default table 212",
    ]);
  });

  test("adds before deletes: the new route is in place before the old one goes", () => {
    const want = desired(["10.0.0.0/8"]);
    const old = stateOf(desired(["0.0.0.0/0"]));
    expect(ops(diffNetns(want, old))).toEqual([`ip route replace 10.0.0.0/8 via ${W} table 211 proto 211`, "ip route del default table 211"]);
  });

  test("a rule at our priority with other selectors: the wanted one added, then the old one deleted", () => {
    const want = desired(["10.0.0.0/8:tcp:443"]);
    const old = stateOf(desired(["10.0.0.0/8:tcp:80"]));
    expect(ops(diffNetns(want, old))).toEqual([
      "ip rule add pref 5220 to 10.0.0.0/8 ipproto tcp dport 443 lookup 212",
      "ip rule del pref 5220 to 10.0.0.0/8 ipproto tcp dport 80 lookup 212",
    ]);
  });

  test("restore: every rule deleted, then every route", () => {
    const routed = stateOf(desired(["0.0.0.0/0", "10.0.0.0/8"]));
    expect(ops(diffNetns(restore, routed))).toEqual([
      "ip rule del pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule del pref 5250 lookup 211",
      "ip route del default table 211",
      "ip route del 10.0.0.0/8 table 211",
    ]);
    expect(diffNetns(restore, {})).toEqual([]);
  });
});

// --- Real namespaces ------------------------------------------------------------------------------
// test/unit/fixtures/ip/ holds what `ip -json` printed in real target namespaces (regenerate with
// test/support/capture-ip-fixtures.ts), with the inspected target and warp container. Targets:
// app-default (0.0.0.0/0), app-ports (10.0.0.0/8 + 0.0.0.0/0:tcp:80-443, mtu 1280, port 80
// published), app-v6 (both families, IPv4-mapped and NAT64 prefixes, an IPv6 port rule).

interface IpFixture {
  about: string;
  target: ObservedContainer;
  warp: ObservedContainer;
  ip: Record<"4" | "6", Record<string, unknown>>;
}

function fixture(name: string): IpFixture {
  return JSON.parse(readFileSync(new URL(`./fixtures/ip/${name}.json`, import.meta.url), "utf8")) as IpFixture;
}

/** Everything `ip` listed for one family in spec form, Docker's own tables and rules included. */
function everything(fx: IpFixture, family: Family): FamilyState {
  const dump = fx.ip[family];
  return {
    rules: parseRules(dump["rule show"]).map((rule) => ruleFromJson(family, rule) ?? { family, priority: rule.priority, table: rule.table }),
    // `table all` leaves out the table of main's routes.
    routes: parseRoutes(dump["route show table all"]).map((route) => routeFromJson(family, route.table ?? "main", route)),
  };
}

/** What readNetns (src/modes/warp/apply.ts) keeps of the same dump: dockernet's priorities and tables. */
function readerView(fx: IpFixture, family: Family): FamilyState {
  const tables: string[] = Object.values(warpTables);
  const rules = parseRules(fx.ip[family]["rule show"]).flatMap((rule) => ruleFromJson(family, rule) ?? []);
  const routes = parseRoutes(fx.ip[family]["route show table all"]).filter((route) => route.table !== undefined && tables.includes(route.table));
  return { rules, routes: routes.map((route) => routeFromJson(family, route.table as string, route)) };
}

function real(fx: IpFixture, view: (fx: IpFixture, family: Family) => FamilyState = everything): NetnsState {
  return { 4: view(fx, 4), 6: view(fx, 6) };
}

/** What the planner wants for the fixture's containers, as they were inspected. */
function planOf(fx: IpFixture, config: WarpConfig = warpConfig()): NetnsDesired {
  const plan = planTarget(fx.target, fx.warp, config);
  if (plan.kind === "error") throw new Error(plan.error);
  return plan.desired;
}

const targets = ["app-default", "app-ports", "app-v6"] as const;
const states = ["unrouted", "routed", "blocked"] as const;

describe("the fixtures are what they say", () => {
  test("routed and blocked namespaces hold dockernet's proto 211 routes; unrouted ones none; Docker's default route stays", () => {
    for (const name of targets) {
      for (const state of states) {
        const fx = fixture(`${name}.${state}`);
        const routes = parseRoutes(fx.ip[4]["route show table all"]);
        const ours = routes.filter((route) => route.protocol === "211");
        expect(ours.length > 0).toBe(state !== "unrouted");
        expect(ours.every((route) => route.table === "211" || route.table === "212")).toBe(true);
        expect(routes).toContainEqual(expect.objectContaining({ dst: "default", gateway: fx.target.networks[0]?.gateway }));
      }
    }
    expect(fixture("app-v6.routed").ip[6]["route show table all"]).toContainEqual(expect.objectContaining({ dst: "::ffff:1.2.3.0/120", table: "211" }));
  });
});

describe("diffNetns against real namespaces", () => {
  test("routed and blocked namespaces are in sync with their plans (no drift, IPv4-mapped prefixes included)", () => {
    for (const name of targets) {
      expect(diffNetns(planOf(fixture(`${name}.routed`)), real(fixture(`${name}.routed`)))).toEqual([]);
      expect(diffNetns(planOf(fixture(`${name}.blocked`)), real(fixture(`${name}.blocked`)))).toEqual([]);
    }
  });

  test("a namespace before routing: exactly the routes, then the rules, that a human would add", () => {
    expect(ops(diffNetns(planOf(fixture("app-default.unrouted")), real(fixture("app-default.unrouted"))))).toEqual([
      "ip route replace default via 10.121.1.2 table 211 proto 211",
      "ip rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule add pref 5250 lookup 211",
    ]);
    expect(ops(diffNetns(planOf(fixture("app-ports.unrouted")), real(fixture("app-ports.unrouted"))))).toEqual([
      "ip route replace default via 10.121.1.2 table 212 proto 211 mtu lock 1280",
      "ip route replace 10.0.0.0/8 via 10.121.1.2 table 211 proto 211 mtu lock 1280",
      "ip rule add pref 5200 ipproto tcp sport 80 lookup main",
      "ip rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule add pref 5220 ipproto tcp dport 80-443 lookup 212",
      "ip rule add pref 5250 lookup 211",
    ]);
    expect(ops(diffNetns(planOf(fixture("app-v6.unrouted")), real(fixture("app-v6.unrouted"))))).toEqual([
      "ip route replace default via 10.121.2.2 table 211 proto 211",
      "ip rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule add pref 5250 lookup 211",
      "ip -6 route replace default via fd00:121:2::2 table 212 proto 211",
      "ip -6 route replace default via fd00:121:2::2 table 211 proto 211",
      "ip -6 route replace ::ffff:1.2.3.0/120 via fd00:121:2::2 table 211 proto 211",
      "ip -6 route replace 64:ff9b::/96 via fd00:121:2::2 table 211 proto 211",
      "ip -6 rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip -6 rule add pref 5220 to ::ffff:1.2.3.0/120 ipproto tcp dport 443 lookup 212",
      "ip -6 rule add pref 5250 lookup 211",
    ]);
  });

  test("blocked -> routed and routed -> blocked: each of dockernet's routes replaced in place, rules kept", () => {
    expect(ops(diffNetns(planOf(fixture("app-v6.routed")), real(fixture("app-v6.blocked"))))).toEqual([
      "ip route replace default via 10.121.2.2 table 211 proto 211",
      "ip -6 route replace default via fd00:121:2::2 table 212 proto 211",
      "ip -6 route replace default via fd00:121:2::2 table 211 proto 211",
      "ip -6 route replace ::ffff:1.2.3.0/120 via fd00:121:2::2 table 211 proto 211",
      "ip -6 route replace 64:ff9b::/96 via fd00:121:2::2 table 211 proto 211",
    ]);
    expect(ops(diffNetns(planOf(fixture("app-ports.blocked")), real(fixture("app-ports.routed"))))).toEqual([
      "ip route replace unreachable default table 212 proto 211",
      "ip route replace unreachable 10.0.0.0/8 table 211 proto 211",
    ]);
  });

  test("one of dockernet's routes deleted by hand: exactly that route added back", () => {
    const fx = fixture("app-ports.route-deleted");
    expect(ops(diffNetns(planOf(fx), real(fx)))).toEqual(["ip route replace 10.0.0.0/8 via 10.121.1.2 table 211 proto 211 mtu lock 1280"]);
  });

  test("foreign routes in dockernet's tables and rules in its priority range are removed; rules outside it are not", () => {
    // Tables 211/212 and priorities 5200-5299 are dockernet's whole: a route there, whoever added
    // it, steers the target's traffic past (or around) the warp container.
    const fx = fixture("app-default.foreign");
    expect(ops(diffNetns(planOf(fx), real(fx)))).toEqual([
      "ip rule del pref 5230 to 203.0.113.0/24 lookup main",
      "ip rule del pref 5260 lookup main",
      "ip route del default table 211 metric 5",
      "ip route del 192.0.2.0/24 table 211",
      "ip route del 198.51.100.0/24 table 212",
    ]);
  });

  test("a route that is right is left alone whoever wrote it: proto is not part of its identity", () => {
    const fx = fixture("app-default.routed");
    const routes = (fx.ip[4]["route show table all"] as Record<string, unknown>[]).map((route) => (route.protocol === "211" ? { ...route, protocol: "boot" } : route));
    const handMade = { ...fx, ip: { ...fx.ip, 4: { ...fx.ip[4], "route show table all": routes } } };
    expect(diffNetns(planOf(fx), real(handMade))).toEqual([]);
  });

  test("restore: dockernet's rules (lookup main at 5200/5210 included) and routes removed, Docker's kept", () => {
    const restoring = planOf(fixture("app-ports.blocked"), warpConfig({ on_gateway_down: "restore" }));
    expect(restoring).toEqual({ routes: [], rules: [], families: [4] });
    expect(ops(diffNetns(restoring, real(fixture("app-ports.routed"))))).toEqual([
      "ip rule del pref 5200 ipproto tcp sport 80 lookup main",
      "ip rule del pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule del pref 5220 ipproto tcp dport 80-443 lookup 212",
      "ip rule del pref 5250 lookup 211",
      "ip route del 10.0.0.0/8 table 211",
      "ip route del default table 212",
    ]);
    expect(diffNetns(restoring, real(fixture("app-ports.unrouted")))).toEqual([]);
  });

  test("Docker's own routes and rules are never touched, whichever plan meets whichever state", () => {
    const owned = (action: NetnsAction) =>
      "route" in action ? action.route.table === warpTables.destinations || action.route.table === warpTables.ports : action.rule.priority >= priority.first && action.rule.priority <= priority.last;
    for (const name of targets) {
      const plans = [planOf(fixture(`${name}.routed`)), planOf(fixture(`${name}.blocked`)), planOf(fixture(`${name}.blocked`), warpConfig({ on_gateway_down: "restore" }))];
      const fixtures = [...states.map((state) => fixture(`${name}.${state}`)), ...(name === "app-ports" ? [fixture("app-ports.route-deleted")] : [])];
      if (name === "app-default") fixtures.push(fixture("app-default.foreign"), fixture("app-default.masked-rule"));
      for (const want of plans) {
        for (const fx of fixtures) {
          const actions = diffNetns(want, real(fx));
          expect(actions.filter((action) => !owned(action))).toEqual([]);
          // Given the whole dump or only what the reader keeps, the diff is the same.
          expect(diffNetns(want, real(fx, readerView))).toEqual(actions);
        }
      }
    }
  });

  test("IPv6 of an IPv4-only target is neither read nor repaired", () => {
    const fx = fixture("app-default.routed");
    expect(planOf(fx).families).toEqual([4]);
    const v6 = fixture("app-v6.routed");
    expect(diffNetns(planOf(fx), { ...real(fx), 6: real(v6)[6] })).toEqual([]);
  });

  test("a foreign rule in place of dockernet's (`5250: from 192.0.2.0/24 lookup 211`) is drift: deleted, then dockernet's added", () => {
    // The kernel takes `pref 5250 lookup 211` for a duplicate of the foreign rule (File exists), so
    // the foreign one goes first; `from` names it exactly, so the delete cannot hit another rule.
    const fx = fixture("app-default.masked-rule");
    const repair = ["ip rule del pref 5250 from 192.0.2.0/24 lookup 211", "ip rule add pref 5250 lookup 211"];
    expect(ops(diffNetns(planOf(fx), real(fx)))).toEqual(repair);
    expect(ops(diffNetns(planOf(fx), real(fx, readerView)))).toEqual(repair);
  });
});

describe("foreign rules at dockernet's priorities", () => {
  const want = desired(["0.0.0.0/0"]);
  const withRules = (...json: Record<string, unknown>[]): NetnsState => ({
    4: { rules: parseRules(json).flatMap((rule) => ruleFromJson(4, rule) ?? []), routes: want.routes },
  });
  const ours5210 = { priority: 5210, src: "all", table: "main", suppress_prefixlen: 0 };
  const ours5250 = { priority: 5250, src: "all", table: "211" };

  test("one the kernel takes for dockernet's (`not`, `from`, `tos`, `realms`) is deleted before dockernet's is added", () => {
    // As iproute2 6.1 prints them; each makes `ip rule add pref 5250 lookup 211` fail with File exists.
    for (const [foreign, part] of [
      [{ priority: 5250, not: null, src: "all", table: "211" }, "not"],
      [{ priority: 5250, src: "192.0.2.1", table: "211" }, "from 192.0.2.1/32"],
      [{ priority: 5250, src: "all", tos: "0x10", table: "211" }, "tos 0x10"],
      [{ priority: 5250, src: "all", table: "211", flow_to: "5" }, "realms 5"],
    ] as const) {
      expect(ops(diffNetns(want, withRules(ours5210, foreign)))).toEqual([`ip rule del pref 5250 ${part} lookup 211`, "ip rule add pref 5250 lookup 211"]);
    }
  });

  test("one the kernel tells apart (`iif`, `fwmark`, another port) is deleted after dockernet's is added", () => {
    expect(ops(diffNetns(want, withRules(ours5210, { priority: 5250, src: "all", iif: "eth0", table: "211" })))).toEqual([
      "ip rule add pref 5250 lookup 211",
      "ip rule del pref 5250 iif eth0 lookup 211",
    ]);
    expect(ops(diffNetns(want, withRules(ours5210, { priority: 5250, src: "all", fwmark: "0x10", fwmask: "0xff", table: "211" })))).toEqual([
      "ip rule add pref 5250 lookup 211",
      "ip rule del pref 5250 fwmark 0x10/0xff lookup 211",
    ]);
    const ports = desired(["10.0.0.0/8:tcp:443"]);
    const old = { priority: 5220, src: "all", dst: "10.0.0.0", dstlen: 8, ipproto: "tcp", dport: 80, table: "212" };
    const state: NetnsState = { 4: { rules: [...ports.rules.filter((rule) => rule.priority !== 5220), ...parseRules([old]).flatMap((rule) => ruleFromJson(4, rule) ?? [])], routes: ports.routes } };
    expect(ops(diffNetns(ports, state))).toEqual(["ip rule add pref 5220 to 10.0.0.0/8 ipproto tcp dport 443 lookup 212", "ip rule del pref 5220 to 10.0.0.0/8 ipproto tcp dport 80 lookup 212"]);
  });

  test("next to dockernet's own rule, only the foreign one is deleted", () => {
    expect(ops(diffNetns(want, withRules(ours5210, ours5250, { priority: 5250, src: "192.0.2.0", srclen: 24, table: "211" })))).toEqual([
      "ip rule del pref 5250 from 192.0.2.0/24 lookup 211",
    ]);
    expect(diffNetns(want, withRules(ours5210, ours5250, { priority: 5250, src: "all", table: "211", protocol: "boot" }))).toEqual([]);
  });

  test("rules with another action, or parts the reader cannot spell, are removed too", () => {
    expect(ops(diffNetns(want, withRules(ours5210, ours5250, { priority: 5267, src: "all", action: "blackhole" }, { priority: 5270, src: "all", goto: 5299, unresolved: null })))).toEqual([
      "ip rule del pref 5267 blackhole",
      "ip rule del pref 5270 goto 5299",
    ]);
    // `ip -batch` would refuse `a@b`; the delete names what it can, and goes first, so the kernel
    // removes the first rule at 5250 looking up 211: the foreign one, since dockernet's is missing.
    expect(ops(diffNetns(want, withRules(ours5210, { priority: 5250, src: "all", iif: "a@b", iif_detached: null, table: "211" })))).toEqual([
      "ip rule del pref 5250 lookup 211",
      "ip rule add pref 5250 lookup 211",
    ]);
  });
});

describe("diffNetns per family", () => {
  test("IPv6 is read and repaired only when desired.families lists it", () => {
    const leftovers6 = stateOf(desired(["0.0.0.0/0"], { ipv6: true, via6: W6 }));
    const only4 = desired(["0.0.0.0/0"]);
    expect(diffNetns(only4, { ...leftovers6, 4: stateOf(only4)[4] })).toEqual([]);
  });

  test("a missing family is built after the other's adds, deletes last", () => {
    const want = desired(["10.0.0.0/8", "0.0.0.0/0"], { ipv6: true });
    const state: NetnsState = { 4: stateOf(desired(["0.0.0.0/0"]))[4] };
    const actions = diffNetns(want, state);
    expect(ops(actions)).toEqual([
      `ip route replace 10.0.0.0/8 via ${W} table 211 proto 211`,
      "ip -6 route replace unreachable default table 211 proto 211",
      "ip -6 rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip -6 rule add pref 5250 lookup 211",
    ]);
    expect(actions.map(actionFamily)).toEqual([4, 6, 6, 6]);
  });

  test("the same route in the other family does not count", () => {
    const want = desired(["0.0.0.0/0"], { ipv6: true, via6: W6 });
    const state = stateOf(want);
    state[6] = { rules: state[6]!.rules, routes: [{ family: 6, table: "211", dst: "default", via: W }] };
    expect(ops(diffNetns(want, state))).toEqual([`ip -6 route replace default via ${W6} table 211 proto 211`]);
  });
});

describe("ensureActions", () => {
  test("every route replaced, then every rule added", () => {
    expect(ops(ensureActions(desired(["0.0.0.0/0", "10.0.0.0/8"], { via: "172.20.0.7" })))).toEqual([
      "ip route replace default via 172.20.0.7 table 211 proto 211",
      "ip route replace 10.0.0.0/8 via 172.20.0.7 table 211 proto 211",
      "ip rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule add pref 5250 lookup 211",
    ]);
    expect(ensureActions(restore)).toEqual([]);
  });
});

describe("ip commands", () => {
  test("each action is exactly its ip tokens", () => {
    expect(actionCommand({ op: "route-replace", route: { family: 4, table: "212", dst: "default" } })).toEqual([
      "route", "replace", "unreachable", "default", "table", "212", "proto", "211",
    ]);
    expect(actionCommand({ op: "route-replace", route: { family: 4, table: "211", dst: "10.0.0.0/8", via: W, mtu: 1280 } })).toEqual([
      "route", "replace", "10.0.0.0/8", "via", W, "table", "211", "proto", "211", "mtu", "lock", "1280",
    ]);
    expect(actionCommand({ op: "route-del", route: { family: 4, table: "211", dst: "default" } })).toEqual(["route", "del", "default", "table", "211"]);
    expect(actionCommand({ op: "route-del", route: { family: 4, table: "211", dst: "1.2.3.4", via: W, mtu: 1280 } })).toEqual(["route", "del", "1.2.3.4", "table", "211"]);
    expect(actionCommand({ op: "rule-add", rule: { family: 4, priority: 5220, to: "10.0.0.0/8", ipproto: "tcp", dport: { lo: 80, hi: 443 }, table: "212" } })).toEqual([
      "rule", "add", "pref", "5220", "to", "10.0.0.0/8", "ipproto", "tcp", "dport", "80-443", "lookup", "212",
    ]);
    expect(actionCommand({ op: "rule-add", rule: { family: 4, priority: 5200, ipproto: "udp", sport: { lo: 53, hi: 53 }, table: "main" } })).toEqual([
      "rule", "add", "pref", "5200", "ipproto", "udp", "sport", "53", "lookup", "main",
    ]);
    expect(actionCommand({ op: "rule-del", rule: suppressMain })).toEqual(["rule", "del", "pref", "5210", "suppress_prefixlength", "0", "lookup", "main"]);
  });

  test("mtu lock is the last three tokens", () => {
    expect(actionCommand({ op: "route-replace", route: { family: 6, table: "211", dst: "default", via: W6, mtu: 1280 } }).slice(-3)).toEqual(["mtu", "lock", "1280"]);
    expect(actionCommand({ op: "route-replace", route: { family: 6, table: "211", dst: "default", via: W6 } })).not.toContain("mtu");
  });

  test("actionText is what an operator would type, ip -6 for IPv6", () => {
    expect(actionText({ op: "route-replace", route: { family: 6, table: "211", dst: "default", via: W6 } })).toBe(`ip -6 route replace default via ${W6} table 211 proto 211`);
    expect(actionText({ op: "rule-del", rule: { ...lookup211, family: 6 } })).toBe("ip -6 rule del pref 5250 lookup 211");
    expect(actionText({ op: "rule-add", rule: lookup211 })).toBe("ip rule add pref 5250 lookup 211");
  });
});

describe("several routes to one destination", () => {
  // IPv4 keeps routes to one destination with different metrics, and `ip -json` lists them by
  // metric: dockernet's (metric 0) first, then e.g. `ip route add default via X table 211 metric 5`.
  // The metric is part of a route's slot, so neither hides the other (see also the foreign fixture).
  test("a second route to the same destination does not hide dockernet's correct one, and is removed", () => {
    const want = desired(["0.0.0.0/0"]);
    const routes = parseRoutes([
      { dst: "default", gateway: W, dev: "eth0", protocol: "211", flags: [] },
      { dst: "default", gateway: "172.20.0.9", dev: "eth0", metric: 5, flags: [] },
    ]).map((route) => routeFromJson(4, "211", route));
    expect(ops(diffNetns(want, { 4: { rules: want.rules, routes } }))).toEqual(["ip route del default table 211 metric 5"]);
  });
});
