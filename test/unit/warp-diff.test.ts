import { describe, expect, test } from "bun:test";
import { actionCommand, desiredRoutes, diffNetns, ensureActions, type NetnsState } from "../../src/modes/warp/diff.ts";
import type { TargetPlan } from "../../src/modes/warp/plan.ts";
import type { IpRoute, IpRule } from "../../src/net/ip-json.ts";
import { routePlan } from "./_warp-fixtures.ts";

const target = { id: "app-id", name: "app", pid: 4242 };
const restore: TargetPlan = { kind: "restore", target, warp: "warp-1", reason: "warp container warp-1 is not running" };
const failed: TargetPlan = { kind: "error", target, error: "container app: no network.warp.target label" };

// As `ip -json rule show` / `ip -json route show table 211` print them, parsed.
const suppressMain: IpRule = { priority: 5210, table: "main", src: "all", suppressPrefixLength: 0 };
const lookupWarp: IpRule = { priority: 5211, table: "211", src: "all" };
const dockerRules: IpRule[] = [
  { priority: 0, table: "local", src: "all" },
  { priority: 32766, table: "main", src: "all" },
  { priority: 32767, table: "default", src: "all" },
];
const ours = (dst: string, gateway = "172.20.0.3"): IpRoute => ({ dst, gateway, dev: "eth0", protocol: "211" });
const state = (routes: IpRoute[], rules: IpRule[] = [...dockerRules, suppressMain, lookupWarp]): NetnsState => ({ rules, routes });

describe("diffNetns for a route plan", () => {
  test("nothing to do when the namespace already matches", () => {
    expect(diffNetns(routePlan(), state([ours("default")]))).toEqual([]);
    expect(diffNetns(routePlan(["10.0.0.0/8", "1.2.3.4/32"]), state([ours("10.0.0.0/8"), ours("1.2.3.4")]))).toEqual([]);
  });

  test("an empty namespace gets its routes first, then the rules that use them", () => {
    expect(diffNetns(routePlan(["0.0.0.0/0", "10.0.0.0/8"]), state([], dockerRules))).toEqual([
      { op: "route-replace", dst: "default", via: "172.20.0.3" },
      { op: "route-replace", dst: "10.0.0.0/8", via: "172.20.0.3" },
      { op: "rule-add", rule: "suppressMain" },
      { op: "rule-add", rule: "lookupWarp" },
    ]);
  });

  test("a missing rule alone is added", () => {
    expect(diffNetns(routePlan(), state([ours("default")], [...dockerRules, lookupWarp]))).toEqual([{ op: "rule-add", rule: "suppressMain" }]);
    expect(diffNetns(routePlan(), state([ours("default")], [...dockerRules, suppressMain]))).toEqual([{ op: "rule-add", rule: "lookupWarp" }]);
  });

  test("a rule at our priority that does something else does not count", () => {
    const plainMain: IpRule = { priority: 5210, table: "main", src: "all" };
    const otherTable: IpRule = { priority: 5211, table: "100", src: "all" };
    expect(diffNetns(routePlan(), state([ours("default")], [plainMain, otherTable]))).toEqual([
      { op: "rule-add", rule: "suppressMain" },
      { op: "rule-add", rule: "lookupWarp" },
    ]);
  });

  test("a missing route alone is added", () => {
    expect(diffNetns(routePlan(["0.0.0.0/0", "10.0.0.0/8"]), state([ours("default")]))).toEqual([
      { op: "route-replace", dst: "10.0.0.0/8", via: "172.20.0.3" },
    ]);
  });

  test("a route through the old gateway is replaced", () => {
    expect(diffNetns(routePlan(), state([ours("default", "172.20.0.9")]))).toEqual([{ op: "route-replace", dst: "default", via: "172.20.0.3" }]);
  });

  test("a route that is not ours (other protocol, blackhole) is replaced", () => {
    expect(diffNetns(routePlan(), state([{ ...ours("default"), protocol: "boot" }]))).toEqual([
      { op: "route-replace", dst: "default", via: "172.20.0.3" },
    ]);
    expect(diffNetns(routePlan(["10.9.0.0/16"]), state([{ type: "blackhole", dst: "10.9.0.0/16" }]))).toEqual([
      { op: "route-replace", dst: "10.9.0.0/16", via: "172.20.0.3" },
    ]);
    expect(diffNetns(routePlan(), state([{ ...ours("default"), type: "unicast" }]))).toEqual([]);
  });

  test("a stale route no rule asks for is deleted", () => {
    expect(diffNetns(routePlan(["10.0.0.0/8"]), state([ours("10.0.0.0/8"), ours("default"), ours("8.8.8.8")]))).toEqual([
      { op: "route-del", dst: "default" },
      { op: "route-del", dst: "8.8.8.8" },
    ]);
  });

  test("0.0.0.0/0 is ip's `default`, and a host route is printed without /32", () => {
    const plan = routePlan(["0.0.0.0/0", "192.168.7.7", "10.1.1.1/32"]);
    expect([...desiredRoutes(plan).keys()]).toEqual(["default", "192.168.7.7", "10.1.1.1"]);
    expect(diffNetns(plan, state([ours("default"), ours("192.168.7.7"), ours("10.1.1.1")]))).toEqual([]);
    // Should `ip` ever print the long form, it still compares equal and a deletion uses ip's form.
    expect(diffNetns(plan, state([ours("0.0.0.0/0"), ours("192.168.7.7/32"), ours("10.1.1.1")]))).toEqual([]);
    expect(diffNetns(routePlan(["10.0.0.0/8"]), state([ours("10.0.0.0/8"), ours("0.0.0.0/0")]))).toEqual([{ op: "route-del", dst: "default" }]);
  });

  test("every route is added before any rule", () => {
    const actions = diffNetns(routePlan(["0.0.0.0/0", "10.0.0.0/8"]), state([ours("1.1.1.1")], []));
    const lastRoute = actions.findLastIndex((action) => action.op.startsWith("route-"));
    const firstRule = actions.findIndex((action) => action.op.startsWith("rule-"));
    expect(firstRule).toBeGreaterThan(lastRoute);
    expect(actions.map((action) => action.op)).toEqual(["route-replace", "route-replace", "route-del", "rule-add", "rule-add"]);
  });
});

describe("diffNetns for restore and error plans", () => {
  test("restore removes the rules first, then every route of the table", () => {
    expect(diffNetns(restore, state([ours("default"), ours("10.0.0.0/8")]))).toEqual([
      { op: "rule-del", rule: "lookupWarp" },
      { op: "rule-del", rule: "suppressMain" },
      { op: "route-del", dst: "default" },
      { op: "route-del", dst: "10.0.0.0/8" },
    ]);
  });

  test("restore of a clean namespace does nothing", () => {
    expect(diffNetns(restore, state([], dockerRules))).toEqual([]);
  });

  test("an error plan changes nothing, whatever the namespace holds", () => {
    expect(diffNetns(failed, state([ours("default", "10.9.9.9")], []))).toEqual([]);
    expect(desiredRoutes(failed).size).toBe(0);
    expect(ensureActions(failed)).toEqual([]);
    expect(ensureActions(restore)).toEqual([]);
  });
});

describe("ip commands", () => {
  test("each action is exactly its ip tokens", () => {
    expect(actionCommand({ op: "route-replace", dst: "default", via: "172.20.0.3" })).toEqual([
      "route", "replace", "default", "via", "172.20.0.3", "table", "211", "proto", "211",
    ]);
    expect(actionCommand({ op: "route-del", dst: "10.0.0.0/8" })).toEqual(["route", "del", "10.0.0.0/8", "table", "211"]);
    expect(actionCommand({ op: "rule-add", rule: "suppressMain" })).toEqual([
      "rule", "add", "pref", "5210", "lookup", "main", "suppress_prefixlength", "0",
    ]);
    expect(actionCommand({ op: "rule-add", rule: "lookupWarp" })).toEqual(["rule", "add", "pref", "5211", "lookup", "211"]);
    expect(actionCommand({ op: "rule-del", rule: "suppressMain" })).toEqual(["rule", "del", "pref", "5210"]);
    expect(actionCommand({ op: "rule-del", rule: "lookupWarp" })).toEqual(["rule", "del", "pref", "5211"]);
  });

  test("ensureActions: every route replaced, then both rules added", () => {
    expect(ensureActions(routePlan(["0.0.0.0/0", "10.0.0.0/8"], "172.20.0.7"))).toEqual([
      { op: "route-replace", dst: "default", via: "172.20.0.7" },
      { op: "route-replace", dst: "10.0.0.0/8", via: "172.20.0.7" },
      { op: "rule-add", rule: "suppressMain" },
      { op: "rule-add", rule: "lookupWarp" },
    ]);
  });
});
