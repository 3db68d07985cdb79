import { describe, expect, test } from "bun:test";
import { diffNetns, type NetnsState } from "../../src/modes/warp/diff.ts";
import type { TargetPlan } from "../../src/modes/warp/plan.ts";
import { formatDryRun, formatStatusTable } from "../../src/modes/warp/render.ts";
import { statusRow, type Inspection } from "../../src/modes/warp/status.ts";
import { blockPlan, desired, restorePlan, routePlan, stateOf } from "./_warp-fixtures.ts";

const app = { id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", name: "app", pid: 4242 };
const routed = { ...routePlan(["0.0.0.0/0", "10.0.0.0/8"]), target: app };
const blocked = { ...blockPlan(), target: { ...app, name: "db", pid: 77 } };
const restore = { ...restorePlan(), target: { ...app, name: "worker-long-name", pid: 78 } };
const empty: NetnsState = { 4: { rules: [], routes: [] } };

function inspect(plan: TargetPlan, state: NetnsState): Inspection {
  return { plan, state, actions: plan.kind === "error" ? [] : diffNetns(plan.desired, state) };
}

describe("formatStatusTable", () => {
  test("a header and one aligned line per target with its kill switch, details under the table", () => {
    const rows = [statusRow(inspect(routed, stateOf(routed.desired))), statusRow(inspect(blocked, stateOf(blocked.desired))), statusRow(inspect(restore, empty))];
    const lines = formatStatusTable(rows).split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual(["TARGET", "WARP", "NETWORK", "VIA", "ROUTES", "KILL-SWITCH", "STATE"]);
    expect(lines[1]?.split(/\s+/)).toEqual(["app", "warp-1", "edge", "172.20.0.3", "default,10.0.0.0/8", "armed", "ok"]);
    expect(lines[2]?.split(/\s+/)).toEqual(["db", "warp-1", "-", "blocked", "default", "engaged", "ok"]);
    expect(lines[3]?.split(/\s+/)).toEqual(["worker-long-name", "warp-1", "-", "-", "-", "off", "ok"]);
    expect(lines[0]?.indexOf("KILL-SWITCH")).toBe(lines[1]?.indexOf("armed"));
    expect(lines.slice(4)).toEqual([
      "",
      "db: warp container warp-1 is not running; kill switch engaged: routed destinations are unreachable",
      "worker-long-name: warp container warp-1 is not running; Docker's own route in use",
    ]);
    for (const line of lines) expect(line).toBe(line.trimEnd());
  });

  test("IPv6 routes are marked (v6); drift is listed under the table as the commands that repair it", () => {
    const plan = { ...routed, desired: desired(["0.0.0.0/0"], { ipv6: true, via6: "fd00::3" }) };
    const state = stateOf(plan.desired);
    state[6] = { rules: state[6]!.rules, routes: [] };
    const text = formatStatusTable([statusRow(inspect(plan, state))]);
    expect(text.split("\n")[1]?.split(/\s+/)).toEqual(["app", "warp-1", "edge", "172.20.0.3", "default", "armed", "stale"]);
    expect(text).toEndWith("\n\napp: drift, would run: ip -6 route replace default via fd00::3 table 211 proto 211");
    expect(formatStatusTable([statusRow(inspect(plan, stateOf(plan.desired)))]).split("\n")[1]).toContain("default,default(v6)");
  });

  test("no targets", () => {
    expect(formatStatusTable([])).toContain("no target containers");
  });
});

describe("formatDryRun", () => {
  test("the nsenter commands that would run, per target", () => {
    expect(formatDryRun([inspect(routed, empty)])).toBe(
      [
        "app (pid 4242): via warp-1 172.20.0.3 on edge",
        "  nsenter -t 4242 -n ip route replace default via 172.20.0.3 table 211 proto 211",
        "  nsenter -t 4242 -n ip route replace 10.0.0.0/8 via 172.20.0.3 table 211 proto 211",
        "  nsenter -t 4242 -n ip rule add pref 5210 suppress_prefixlength 0 lookup main",
        "  nsenter -t 4242 -n ip rule add pref 5250 lookup 211",
      ].join("\n"),
    );
  });

  test("up to date, block, restore and error lines", () => {
    const output = formatDryRun([
      inspect(routed, stateOf(routed.desired)),
      inspect(blocked, stateOf(desired(["0.0.0.0/0"]))),
      inspect(restore, stateOf(desired(["0.0.0.0/0"]))),
      { plan: { ...routed, target: { ...app, name: "web", pid: 9 } }, actions: [], error: "Cannot open network namespace" },
    ]);
    expect(output.split("\n")).toEqual([
      "app (pid 4242): up to date (via warp-1 172.20.0.3 on edge)",
      "db (pid 77): warp container warp-1 is not running: block",
      "  nsenter -t 77 -n ip route replace unreachable default table 211 proto 211",
      "worker-long-name (pid 78): warp container warp-1 is not running: restore Docker's route",
      "  nsenter -t 78 -n ip rule del pref 5210 suppress_prefixlength 0 lookup main",
      "  nsenter -t 78 -n ip rule del pref 5250 lookup 211",
      "  nsenter -t 78 -n ip route del default table 211",
      "web (pid 9): error: Cannot open network namespace",
    ]);
  });

  test("IPv6 commands run under ip -6", () => {
    const plan = { ...routed, desired: desired(["0.0.0.0/0"], { ipv6: true }) };
    expect(formatDryRun([inspect(plan, stateOf(desired(["0.0.0.0/0"])))]).split("\n").slice(1)).toEqual([
      "  nsenter -t 4242 -n ip -6 route replace unreachable default table 211 proto 211",
      "  nsenter -t 4242 -n ip -6 rule add pref 5210 suppress_prefixlength 0 lookup main",
      "  nsenter -t 4242 -n ip -6 rule add pref 5250 lookup 211",
    ]);
  });

  test("no targets", () => {
    expect(formatDryRun([])).toBe("no target containers: nothing to do");
  });
});

describe("formatStatusTable with what a real engine says", () => {
  test("the start window (none under dockernet's runtime) and where lookups leave, with the DNS remedy under the table", () => {
    const underRuntime = statusRow({ ...inspect(routed, stateOf(routed.desired)), runtime: "dockernet", dns: { servers: [{ server: "10.255.255.53", via: "warp" }] } });
    const underRunc = statusRow({
      ...inspect(blocked, stateOf(blocked.desired)),
      runtime: "runc",
      dns: { servers: [{ server: "127.0.0.1", via: "host" }], remedy: "lookups leave from the host, past warp" },
    });
    expect(underRuntime).toMatchObject({ runtime: "dockernet", startWindow: "none" });
    expect(underRunc).toMatchObject({ runtime: "runc", startWindow: "until the daemon routes it" });
    const lines = formatStatusTable([underRuntime, underRunc]).split("\n");
    expect(lines[0]?.split(/\s+/)).toEqual(["TARGET", "WARP", "NETWORK", "VIA", "ROUTES", "KILL-SWITCH", "STATE", "START-WINDOW", "DNS"]);
    expect(lines[1]?.split(/\s+/)).toEqual(["app", "warp-1", "edge", "172.20.0.3", "default,10.0.0.0/8", "armed", "ok", "none", "10.255.255.53:warp"]);
    expect(lines[2]?.split(/\s+/)).toEqual(["db", "warp-1", "-", "blocked", "default", "engaged", "ok", "until-routed", "127.0.0.1:host"]);
    expect(lines).toContain("db: dns: lookups leave from the host, past warp");
  });
});
