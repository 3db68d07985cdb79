import { describe, expect, test } from "bun:test";
import { diffNetns, type FamilyState, type NetnsState } from "../../src/modes/warp/diff.ts";
import { routeFromJson, ruleFromJson, type Family, type RuleSpec } from "../../src/modes/warp/netns-spec.ts";
import type { TargetPlan } from "../../src/modes/warp/plan.ts";
import { statusRow, type Inspection } from "../../src/modes/warp/status.ts";
import { parseRoutes, parseRules } from "../../src/net/ip-json.ts";
import { blockPlan, desired, restorePlan, routePlan, stateOf } from "./_warp-fixtures.ts";

const longId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const app = { id: longId, name: "app", pid: 4242 };
const routed = { ...routePlan(["0.0.0.0/0", "10.0.0.0/8"]), target: app };
const blocked = { ...blockPlan(["0.0.0.0/0", "10.0.0.0/8"]), target: app };
const restore = { ...restorePlan(), target: app };

/** A family's state as readNetns builds it from `ip -json rule show` and `ip -json route show table 211/212`. */
function read(family: Family, rules: string, table211 = "[]", table212 = "[]"): FamilyState {
  return {
    rules: parseRules(JSON.parse(rules)).flatMap((rule) => ruleFromJson(family, rule) ?? []) as RuleSpec[],
    routes: [
      ...parseRoutes(JSON.parse(table211)).map((route) => routeFromJson(family, "211", route)),
      ...parseRoutes(JSON.parse(table212)).map((route) => routeFromJson(family, "212", route)),
    ],
  };
}

// What iproute2 6.1 prints in a namespace dockernet routed (rules include Docker's own).
const dockerRules = '{"priority":0,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}';
const ourRules = '{"priority":5210,"src":"all","table":"main","suppress_prefixlen":0},{"priority":5250,"src":"all","table":"211"}';
const viaRoutes =
  '[{"dst":"default","gateway":"172.20.0.3","dev":"eth0","protocol":"211","flags":[]},' +
  '{"dst":"10.0.0.0/8","gateway":"172.20.0.3","dev":"eth0","protocol":"211","flags":[]}]';
const unreachableRoutes = '[{"type":"unreachable","dst":"default","protocol":"211","flags":[]},{"type":"unreachable","dst":"10.0.0.0/8","protocol":"211","flags":[]}]';
const realRouted: NetnsState = { 4: read(4, `[${dockerRules},${ourRules}]`, viaRoutes) };
const realBlocked: NetnsState = { 4: read(4, `[${dockerRules},${ourRules}]`, unreachableRoutes) };
const empty: NetnsState = { 4: read(4, `[${dockerRules}]`) };

/** What inspectTargets would build for a plan and a namespace. */
function inspect(plan: TargetPlan, state: NetnsState): Inspection {
  return { plan, state, actions: plan.kind === "error" ? [] : diffNetns(plan.desired, state) };
}

describe("statusRow: routed", () => {
  test("ok: the namespace holds what the plan wants; the kill switch is armed", () => {
    expect(statusRow(inspect(routed, realRouted))).toEqual({
      target: "app",
      id: "0123456789ab",
      pid: 4242,
      warp: "warp-1",
      network: "edge",
      via: "172.20.0.3",
      via6: null,
      routes: ["default via 172.20.0.3 table 211", "10.0.0.0/8 via 172.20.0.3 table 211"],
      rules: ["5210 suppress_prefixlength 0 lookup main", "5250 lookup 211"],
      killSwitch: "armed",
      state: "ok",
      drift: [],
    });
  });

  test("a route plan whose target restores on gateway down: kill switch off", () => {
    expect(statusRow(inspect({ ...routed, onDown: "restore" }, realRouted))).toMatchObject({ killSwitch: "off", state: "ok" });
  });

  test("missing: nothing of dockernet's in the namespace; drift lists every command", () => {
    const row = statusRow(inspect(routed, empty));
    expect(row).toMatchObject({ state: "missing", via: null, routes: [], rules: [] });
    expect(row.drift).toEqual([
      "ip route replace default via 172.20.0.3 table 211 proto 211",
      "ip route replace 10.0.0.0/8 via 172.20.0.3 table 211 proto 211",
      "ip rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule add pref 5250 lookup 211",
    ]);
  });

  test("stale: a route through an old gateway, repaired in place", () => {
    const old: NetnsState = { 4: read(4, `[${ourRules}]`, viaRoutes.replaceAll("172.20.0.3", "172.20.0.9")) };
    const row = statusRow(inspect(routed, old));
    expect(row).toMatchObject({ state: "stale", via: "172.20.0.9" });
    expect(row.drift).toEqual([
      "ip route replace default via 172.20.0.3 table 211 proto 211",
      "ip route replace 10.0.0.0/8 via 172.20.0.3 table 211 proto 211",
    ]);
  });

  test("stale: a rule deleted by hand, and a stray rule and route of ours", () => {
    const state: NetnsState = {
      4: read(
        4,
        `[{"priority":0,"src":"all","table":"local"},{"priority":5221,"src":"all","ipproto":"udp","dport":53,"table":"212"},{"priority":5250,"src":"all","table":"211"}]`,
        viaRoutes,
        '[{"dst":"default","gateway":"172.20.0.3","dev":"eth0","protocol":"211","flags":[]}]',
      ),
    };
    const row = statusRow(inspect(routed, state));
    expect(row.state).toBe("stale");
    expect(row.rules).toEqual(["5221 ipproto udp dport 53 lookup 212", "5250 lookup 211"]);
    expect(row.drift).toEqual([
      "ip rule add pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule del pref 5221 ipproto udp dport 53 lookup 212",
      "ip route del default table 212",
    ]);
  });

  test("stale: only dockernet's rules are left", () => {
    expect(statusRow(inspect(routed, { 4: read(4, `[${ourRules}]`) })).state).toBe("stale");
  });

  test("via is the default route's gateway, else the first route's", () => {
    const plan = { ...routePlan(["10.0.0.0/8", "8.8.8.8"]), target: app };
    const state: NetnsState = {
      4: read(4, `[${ourRules}]`, '[{"dst":"10.0.0.0/8","gateway":"172.20.0.5","protocol":"211"},{"dst":"8.8.8.8","gateway":"172.20.0.6","protocol":"211"}]'),
    };
    expect(statusRow(inspect(plan, state)).via).toBe("172.20.0.5");
  });
});

describe("statusRow: IPv6", () => {
  test("IPv6 routes and rules carry -6, via6 is the IPv6 default's gateway", () => {
    const plan = { ...routed, desired: desired(["0.0.0.0/0"], { ipv6: true, via6: "fd00::3" }) };
    const row = statusRow(inspect(plan, stateOf(plan.desired)));
    expect(row).toMatchObject({ via: "172.20.0.3", via6: "fd00::3", state: "ok" });
    expect(row.routes).toEqual(["default via 172.20.0.3 table 211", "-6 default via fd00::3 table 211"]);
    expect(row.rules).toEqual(["5210 suppress_prefixlength 0 lookup main", "5250 lookup 211", "-6 5210 suppress_prefixlength 0 lookup main", "-6 5250 lookup 211"]);
  });

  test("drift in IPv6 reads as ip -6 commands", () => {
    const plan = { ...routed, desired: desired(["0.0.0.0/0"], { ipv6: true }) };
    const state = stateOf(desired(["0.0.0.0/0"], { ipv6: true, via6: "fd00::9" }));
    const row = statusRow(inspect(plan, state));
    expect(row).toMatchObject({ state: "stale", via6: "fd00::9" });
    expect(row.drift).toEqual(["ip -6 route replace unreachable default table 211 proto 211"]);
  });
});

describe("statusRow: gateway down", () => {
  test("blocked and in force: the kill switch is engaged, no gateway", () => {
    expect(statusRow(inspect(blocked, realBlocked))).toEqual({
      target: "app",
      id: "0123456789ab",
      pid: 4242,
      warp: "warp-1",
      network: null,
      via: null,
      via6: null,
      routes: ["default unreachable table 211", "10.0.0.0/8 unreachable table 211"],
      rules: ["5210 suppress_prefixlength 0 lookup main", "5250 lookup 211"],
      killSwitch: "engaged",
      state: "ok",
      drift: [],
      detail: "warp container warp-1 is not running; kill switch engaged: routed destinations are unreachable",
    });
  });

  test("blocked but still routed through the old gateway: stale, with the replaces that block it", () => {
    const row = statusRow(inspect(blocked, realRouted));
    expect(row).toMatchObject({ state: "stale", killSwitch: "engaged", via: "172.20.0.3" });
    expect(row.drift).toEqual(["ip route replace unreachable default table 211 proto 211", "ip route replace unreachable 10.0.0.0/8 table 211 proto 211"]);
  });

  test("blocked with nothing in place is missing", () => {
    expect(statusRow(inspect(blocked, empty))).toMatchObject({ state: "missing", killSwitch: "engaged" });
  });

  test("restore: off; with leftovers stale, without ok, and the detail says why", () => {
    const leftovers = statusRow(inspect(restore, realRouted));
    expect(leftovers).toMatchObject({ state: "stale", network: null, killSwitch: "off", detail: "warp container warp-1 is not running; Docker's own route in use" });
    expect(leftovers.drift).toEqual([
      "ip rule del pref 5210 suppress_prefixlength 0 lookup main",
      "ip rule del pref 5250 lookup 211",
      "ip route del default table 211",
      "ip route del 10.0.0.0/8 table 211",
    ]);
    expect(statusRow(inspect(restore, empty))).toMatchObject({ state: "ok", via: null, killSwitch: "off", drift: [], detail: expect.stringContaining("not running") });
  });
});

describe("statusRow: errors", () => {
  test("the namespace could not be read, or the plan failed", () => {
    expect(statusRow({ plan: routed, actions: [], error: "cannot read routes: Cannot open network namespace" })).toMatchObject({
      state: "error",
      detail: "cannot read routes: Cannot open network namespace",
      routes: [],
      rules: [],
      via: null,
      killSwitch: "armed",
    });
    const failed: TargetPlan = { kind: "error", target: app, error: "container app: no network.warp.target label" };
    expect(statusRow({ plan: failed, actions: [], error: failed.error })).toMatchObject({ state: "error", warp: null, network: null, killSwitch: null, drift: [] });
  });
});
