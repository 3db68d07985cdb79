import { describe, expect, test } from "bun:test";
import { diffNetns, type NetnsState } from "../../src/modes/warp/diff.ts";
import type { TargetPlan } from "../../src/modes/warp/plan.ts";
import { formatDryRun, formatStatusTable } from "../../src/modes/warp/render.ts";
import { statusRow, type Inspection } from "../../src/modes/warp/status.ts";
import { routePlan } from "./_warp-fixtures.ts";

const longId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const app = { id: longId, name: "app", pid: 4242 };
const plan = { ...routePlan(["0.0.0.0/0", "10.0.0.0/8"]), target: app };
const restore: TargetPlan = { kind: "restore", target: app, warp: "warp-1", reason: "warp container warp-1 is not running" };

const rules = [
  { priority: 5210, table: "main", suppressPrefixLength: 0 },
  { priority: 5211, table: "211" },
];
const routed: NetnsState = {
  rules,
  routes: [
    { dst: "10.0.0.0/8", gateway: "172.20.0.3", protocol: "211" },
    { dst: "default", gateway: "172.20.0.3", protocol: "211" },
  ],
};
const empty: NetnsState = { rules: [{ priority: 0, table: "local" }], routes: [] };

/** What inspectTargets would build for a plan and a namespace. */
function inspect(target: TargetPlan, state: NetnsState): Inspection {
  return { plan: target, state, actions: diffNetns(target, state) };
}

describe("statusRow", () => {
  test("ok: the namespace holds what the plan wants", () => {
    expect(statusRow(inspect(plan, routed))).toEqual({
      target: "app",
      id: "0123456789ab",
      pid: 4242,
      warp: "warp-1",
      network: "edge",
      via: "172.20.0.3",
      routes: ["10.0.0.0/8 via 172.20.0.3", "default via 172.20.0.3"],
      state: "ok",
      pending: [],
    });
  });

  test("missing: nothing of dockernet's is in the namespace yet", () => {
    const row = statusRow(inspect(plan, empty));
    expect(row).toMatchObject({ state: "missing", via: null, routes: [] });
    expect(row.pending).toHaveLength(4);
  });

  test("stale: dockernet's routes point at an old gateway", () => {
    const old: NetnsState = { rules, routes: [{ dst: "default", gateway: "172.20.0.9", protocol: "211" }] };
    const row = statusRow(inspect(plan, old));
    expect(row).toMatchObject({ state: "stale", via: "172.20.0.9", routes: ["default via 172.20.0.9"] });
    expect(row.pending).toContainEqual({ op: "route-replace", dst: "default", via: "172.20.0.3" });
  });

  test("stale: only dockernet's rules are left", () => {
    expect(statusRow(inspect(plan, { rules, routes: [] })).state).toBe("stale");
  });

  test("restore with leftovers is stale; without, ok, and the detail says why", () => {
    expect(statusRow(inspect(restore, routed))).toMatchObject({
      state: "stale",
      network: null,
      detail: "warp container warp-1 is not running; Docker's own route in use",
    });
    expect(statusRow(inspect(restore, empty))).toMatchObject({ state: "ok", via: null, detail: expect.stringContaining("not running") });
  });

  test("error: the namespace could not be read, or the plan failed", () => {
    expect(statusRow({ plan, actions: [], error: "cannot read routes: Cannot open network namespace" })).toMatchObject({
      state: "error",
      detail: "cannot read routes: Cannot open network namespace",
      routes: [],
      via: null,
    });
    const failed: TargetPlan = { kind: "error", target: app, error: "container app: no network.warp.target label" };
    expect(statusRow({ plan: failed, actions: [], error: failed.error })).toMatchObject({ state: "error", warp: null, network: null });
  });

  test("via is the default route's gateway, else the first route's", () => {
    const noDefault: NetnsState = { rules, routes: [{ dst: "10.0.0.0/8", gateway: "172.20.0.5" }, { dst: "8.8.8.8", gateway: "172.20.0.6" }] };
    expect(statusRow(inspect({ ...plan, rules: [] }, noDefault)).via).toBe("172.20.0.5");
    const blackhole: NetnsState = { rules, routes: [{ type: "blackhole", dst: "10.9.0.0/16" }] };
    expect(statusRow(inspect(plan, blackhole))).toMatchObject({ via: null, routes: ["10.9.0.0/16"] });
  });
});

describe("formatStatusTable", () => {
  test("a header and one aligned line per target, details under the table", () => {
    const rows = [statusRow(inspect(plan, routed)), statusRow({ ...inspect(restore, empty), plan: { ...restore, target: { ...app, name: "worker-long-name" } } })];
    const lines = formatStatusTable(rows).split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual(["TARGET", "WARP", "NETWORK", "VIA", "ROUTES", "STATE"]);
    expect(lines[1]?.split(/\s+/)).toEqual(["app", "warp-1", "edge", "172.20.0.3", "10.0.0.0/8,default", "ok"]);
    expect(lines[2]?.split(/\s+/)).toEqual(["worker-long-name", "warp-1", "-", "-", "-", "ok"]);
    expect(lines[0]?.indexOf("WARP")).toBe(lines[1]?.indexOf("warp-1"));
    expect(lines.slice(3)).toEqual(["", "worker-long-name: warp container warp-1 is not running; Docker's own route in use"]);
    for (const line of lines) expect(line).toBe(line.trimEnd());
  });

  test("no targets", () => {
    expect(formatStatusTable([])).toContain("no target containers");
  });
});

describe("formatDryRun", () => {
  test("the nsenter commands that would run, per target", () => {
    expect(formatDryRun([inspect(plan, empty)])).toBe(
      [
        "app (pid 4242): via warp-1 172.20.0.3 on edge",
        "  nsenter -t 4242 -n ip route replace default via 172.20.0.3 table 211 proto 211",
        "  nsenter -t 4242 -n ip route replace 10.0.0.0/8 via 172.20.0.3 table 211 proto 211",
        "  nsenter -t 4242 -n ip rule add pref 5210 lookup main suppress_prefixlength 0",
        "  nsenter -t 4242 -n ip rule add pref 5211 lookup 211",
      ].join("\n"),
    );
  });

  test("up to date, restore and error lines", () => {
    const output = formatDryRun([
      inspect(plan, routed),
      inspect({ ...restore, target: { ...app, name: "db", pid: 77 } }, { rules, routes: [] }),
      { plan: { ...plan, target: { ...app, name: "web", pid: 9 } }, actions: [], error: "Cannot open network namespace" },
    ]);
    expect(output.split("\n")).toEqual([
      "app (pid 4242): up to date (via warp-1 172.20.0.3 on edge)",
      "db (pid 77): warp container warp-1 is not running",
      "  nsenter -t 77 -n ip rule del pref 5211",
      "  nsenter -t 77 -n ip rule del pref 5210",
      "web (pid 9): error: Cannot open network namespace",
    ]);
  });

  test("no targets", () => {
    expect(formatDryRun([])).toBe("no target containers: nothing to do");
  });
});
