import { describe, expect, test } from "bun:test";
import { normalizeDst, parseRoutes, parseRules } from "../../src/net/ip-json.ts";

// Captured from iproute2 6.1 (`ip -j route show table 211`) in a namespace dockernet routed.
const table211 = JSON.parse(
  '[{"dst":"default","gateway":"172.18.0.3","dev":"eth0","protocol":"211","flags":[]},' +
    '{"dst":"1.2.3.4","gateway":"172.18.0.3","dev":"eth0","protocol":"211","flags":[],"metrics":[{"mtu":1300}]},' +
    '{"dst":"10.0.0.0/8","gateway":"172.18.0.3","dev":"eth0","protocol":"211","metric":100,"flags":[],"metrics":[{"mtu":1400}]},' +
    '{"type":"blackhole","dst":"10.9.0.0/16","flags":[]}]',
);
// `ip -j route show` (main table) of a container.
const mainTable = JSON.parse(
  '[{"dst":"default","gateway":"172.18.0.1","dev":"eth0","flags":[]},' +
    '{"dst":"172.18.0.0/16","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"172.18.0.2","flags":[]}]',
);
// `ip -j rule show` after dockernet added its two rules.
const rules = JSON.parse(
  '[{"priority":0,"src":"all","table":"local"},{"priority":5210,"src":"all","table":"main","suppress_prefixlen":0},' +
    '{"priority":5211,"src":"all","table":"211"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]',
);

describe("parseRoutes", () => {
  test("dockernet's table, with metric, mtu and a blackhole", () => {
    expect(parseRoutes(table211)).toEqual([
      { dst: "default", gateway: "172.18.0.3", dev: "eth0", protocol: "211" },
      { dst: "1.2.3.4", gateway: "172.18.0.3", dev: "eth0", protocol: "211", mtu: 1300 },
      { dst: "10.0.0.0/8", gateway: "172.18.0.3", dev: "eth0", protocol: "211", metric: 100, mtu: 1400 },
      { dst: "10.9.0.0/16", type: "blackhole" },
    ]);
  });

  test("the main table: kernel route with scope", () => {
    expect(parseRoutes(mainTable)[1]).toEqual({ dst: "172.18.0.0/16", dev: "eth0", protocol: "kernel", scope: "link" });
  });

  test("a locked mtu in its nested form", () => {
    expect(parseRoutes([{ dst: "1.2.3.4", metrics: [{ mtu: { mtu: 1280, lock: true } }] }])[0]).toMatchObject({ mtu: 1280, mtuLocked: true });
  });

  test("numbers where ip prints names are kept as strings; junk gives nothing", () => {
    expect(parseRoutes([{ dst: "default", protocol: 211, table: 211 }])[0]).toMatchObject({ protocol: "211", table: "211" });
    expect(parseRoutes(null)).toEqual([]);
    expect(parseRoutes({ dst: "default" })).toEqual([]);
    expect(parseRoutes([null])).toEqual([{ dst: "" }]);
  });
});

describe("parseRules", () => {
  test("priorities, tables and suppress_prefixlen; every printed field kept in raw", () => {
    const parsed = parseRules(rules);
    expect(parsed.map(({ raw: _raw, ...rule }) => rule)).toEqual([
      { priority: 0, table: "local", src: "all" },
      { priority: 5210, table: "main", src: "all", suppressPrefixLength: 0 },
      { priority: 5211, table: "211", src: "all" },
      { priority: 32766, table: "main", src: "all" },
      { priority: 32767, table: "default", src: "all" },
    ]);
    expect(parsed.map((rule) => rule.raw)).toEqual(rules);
    expect(parseRules("[]")).toEqual([]);
  });

  test("selectors of port and published-port rules stay in raw (iproute2 6.1 output)", () => {
    const printed = JSON.parse(
      '[{"priority":5201,"src":"all","ipproto":"tcp","sport_start":8000,"sport_end":8100,"table":"main"},' +
        '{"priority":5220,"src":"all","dst":"10.0.0.0","dstlen":8,"ipproto":"tcp","dport_start":80,"dport_end":443,"table":"212"}]',
    );
    expect(parseRules(printed)).toEqual([
      { priority: 5201, table: "main", src: "all", raw: printed[0] },
      { priority: 5220, table: "212", src: "all", raw: printed[1] },
    ]);
  });

  test("junk gives defaults, not a crash", () => {
    expect(parseRules([null])).toEqual([{ priority: 0, table: "", raw: {} }]);
    expect(parseRules({ priority: 1 })).toEqual([]);
  });
});

describe("normalizeDst", () => {
  test("the default routes", () => {
    expect(normalizeDst("0.0.0.0/0")).toBe("default");
    expect(normalizeDst("::/0")).toBe("default");
    expect(normalizeDst("default")).toBe("default");
  });

  test("host routes lose /32 and /128", () => {
    expect(normalizeDst("1.2.3.4/32")).toBe("1.2.3.4");
    expect(normalizeDst("2001:db8::1/128")).toBe("2001:db8::1");
    expect(normalizeDst("1.2.3.4")).toBe("1.2.3.4");
  });

  test("networks keep their prefix", () => {
    expect(normalizeDst("10.0.0.0/8")).toBe("10.0.0.0/8");
    expect(normalizeDst("10.0.0.32/27")).toBe("10.0.0.32/27");
  });

  test("an IPv6 /32 network keeps its prefix (only IPv4 hosts are /32)", () => {
    expect(normalizeDst("2001:db8::/32")).toBe("2001:db8::/32");
  });
});
