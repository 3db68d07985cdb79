import { describe, expect, test } from "bun:test";
import { publishedRanges } from "../../src/modes/warp/desired.ts";
import type { RuleSpec } from "../../src/modes/warp/netns-spec.ts";
import { desired } from "./_warp-fixtures.ts";

const W = "172.20.0.3";
const W6 = "fd00:20::3";
const suppressMain: RuleSpec = { family: 4, priority: 5210, suppressDefault: true, table: "main" };
const lookup211: RuleSpec = { family: 4, priority: 5250, table: "211" };

describe("desiredNetns: destination rules", () => {
  test("0.0.0.0/0: table 211 `default via W`, main without its default (5210), then table 211 (5250)", () => {
    expect(desired(["0.0.0.0/0"])).toEqual({
      routes: [{ family: 4, table: "211", dst: "default", via: W }],
      rules: [suppressMain, lookup211],
      families: [4],
    });
  });

  test("several destinations, in rule order, as ip prints them", () => {
    expect(desired(["10.0.0.0/8", "1.2.3.4/32", "192.168.7.7"]).routes).toEqual([
      { family: 4, table: "211", dst: "10.0.0.0/8", via: W },
      { family: 4, table: "211", dst: "1.2.3.4", via: W },
      { family: 4, table: "211", dst: "192.168.7.7", via: W },
    ]);
  });

  test("a destination given twice is routed once", () => {
    const routes = desired(["10.0.0.0/8", "10.1.2.3/8", "1.2.3.4", "1.2.3.4/32", "0.0.0.0/0", "0.0.0.0/0"]).routes;
    expect(routes.map((route) => route.dst)).toEqual(["10.0.0.0/8", "1.2.3.4", "default"]);
  });

  test("blocked: the same destinations, unreachable", () => {
    const blocked = desired(["0.0.0.0/0", "10.0.0.0/8"], { via: undefined, block: true });
    expect(blocked.routes).toEqual([
      { family: 4, table: "211", dst: "default" },
      { family: 4, table: "211", dst: "10.0.0.0/8" },
    ]);
    for (const route of blocked.routes) expect("via" in route).toBe(false);
    expect(blocked.rules).toEqual([suppressMain, lookup211]);
  });

  test("block wins over a known gateway", () => {
    expect(desired(["0.0.0.0/0"], { block: true }).routes).toEqual([{ family: 4, table: "211", dst: "default" }]);
  });
});

describe("desiredNetns: IPv6", () => {
  test("an IPv6 target gets ::/0 through the warp container's IPv6 address", () => {
    const both = desired(["0.0.0.0/0"], { ipv6: true, via6: W6 });
    expect(both.families).toEqual([4, 6]);
    expect(both.routes).toEqual([
      { family: 4, table: "211", dst: "default", via: W },
      { family: 6, table: "211", dst: "default", via: W6 },
    ]);
    expect(both.rules).toEqual([suppressMain, lookup211, { ...suppressMain, family: 6 }, { ...lookup211, family: 6 }]);
  });

  test("a warp container without IPv6 means IPv6 is unreachable, never Docker's route", () => {
    const routes = desired(["0.0.0.0/0"], { ipv6: true }).routes;
    expect(routes).toEqual([
      { family: 4, table: "211", dst: "default", via: W },
      { family: 6, table: "211", dst: "default" },
    ]);
  });

  test("blocked IPv6 target: both defaults unreachable", () => {
    expect(desired(["0.0.0.0/0"], { ipv6: true, via6: W6, via: undefined, block: true }).routes).toEqual([
      { family: 4, table: "211", dst: "default" },
      { family: 6, table: "211", dst: "default" },
    ]);
  });

  test("only 0.0.0.0/0 gets an IPv6 counterpart; explicit ::/0 is not doubled", () => {
    const routes = desired(["10.0.0.0/8", "0.0.0.0/0", "::/0", "2001:db8::/32", "2001:db8::1/128"], { ipv6: true, via6: W6 }).routes;
    expect(routes.filter((route) => route.family === 6)).toEqual([
      { family: 6, table: "211", dst: "default", via: W6 },
      { family: 6, table: "211", dst: "2001:db8::/32", via: W6 },
      { family: 6, table: "211", dst: "2001:db8::1", via: W6 },
    ]);
  });

  test("explicit IPv6 rules are skipped for a target without IPv6", () => {
    expect(desired(["10.0.0.0/8", "2001:db8::/32"]).routes).toEqual([{ family: 4, table: "211", dst: "10.0.0.0/8", via: W }]);
    expect(desired(["::/0"])).toEqual({ routes: [], rules: [], families: [4] });
  });

  test("an IPv6 target with IPv6 rules only: nothing installed for IPv4", () => {
    const only6 = desired(["2001:db8::/32"], { ipv6: true, via6: W6 });
    expect(only6.families).toEqual([4, 6]);
    expect(only6.routes).toEqual([{ family: 6, table: "211", dst: "2001:db8::/32", via: W6 }]);
    expect(only6.rules.every((rule) => rule.family === 6)).toBe(true);
  });
});

describe("desiredNetns: port rules", () => {
  test("cidr:proto:ports become rules 5220.. into table 212, which holds one default", () => {
    expect(desired(["0.0.0.0/0:tcp:443", "10.0.0.0/8:udp:53-60"])).toEqual({
      routes: [{ family: 4, table: "212", dst: "default", via: W }],
      rules: [
        suppressMain,
        { family: 4, priority: 5220, ipproto: "tcp", dport: { lo: 443, hi: 443 }, table: "212", origin: "0.0.0.0/0:tcp:443" },
        { family: 4, priority: 5221, to: "10.0.0.0/8", ipproto: "udp", dport: { lo: 53, hi: 60 }, table: "212", origin: "10.0.0.0/8:udp:53-60" },
      ],
      families: [4],
    });
  });

  test("a protocol without ports matches every port", () => {
    expect(desired(["10.0.0.0/8:udp"]).rules[1]).toEqual({ family: 4, priority: 5220, to: "10.0.0.0/8", ipproto: "udp", table: "212", origin: "10.0.0.0/8:udp" });
  });

  test("with destination rules: port rules first (5220..), table 211 last (5250)", () => {
    const mixed = desired(["10.0.0.0/8", "0.0.0.0/0:tcp:443"]);
    expect(mixed.rules.map((rule) => `${rule.priority} ${rule.table}`)).toEqual(["5210 main", "5220 212", "5250 211"]);
    expect(mixed.routes).toEqual([
      { family: 4, table: "212", dst: "default", via: W },
      { family: 4, table: "211", dst: "10.0.0.0/8", via: W },
    ]);
  });

  test("blocked: table 212's default is unreachable too", () => {
    expect(desired(["0.0.0.0/0:tcp:443"], { via: undefined, block: true }).routes).toEqual([{ family: 4, table: "212", dst: "default" }]);
  });

  test("0.0.0.0/0 port rules cover IPv6 too, via the warp's IPv6 or unreachable", () => {
    const routed = desired(["0.0.0.0/0:tcp:443"], { ipv6: true, via6: W6 });
    expect(routed.rules.filter((rule) => rule.family === 6)).toEqual([
      { family: 6, priority: 5210, suppressDefault: true, table: "main" },
      { family: 6, priority: 5220, ipproto: "tcp", dport: { lo: 443, hi: 443 }, table: "212", origin: "0.0.0.0/0:tcp:443" },
    ]);
    expect(routed.routes.filter((route) => route.family === 6)).toEqual([{ family: 6, table: "212", dst: "default", via: W6 }]);
    expect(desired(["0.0.0.0/0:tcp:443"], { ipv6: true }).routes.filter((route) => route.family === 6)).toEqual([{ family: 6, table: "212", dst: "default" }]);
  });

  test("30 port rules fit (5220-5249); 31 throw a clear error", () => {
    const rules = (count: number) => Array.from({ length: count }, (_, index) => `10.0.0.0/8:tcp:${index + 1}`);
    expect(desired(rules(30)).rules.at(-1)).toMatchObject({ priority: 5249, dport: { lo: 30, hi: 30 } });
    expect(() => desired(rules(31))).toThrow("31 port rules for IPv4; at most 30");
  });
});

describe("desiredNetns: published ports", () => {
  test("replies from published ports use main (5200..), before main without its default", () => {
    const plan = desired(["0.0.0.0/0"], { published: [{ proto: "tcp", port: 80 }, { proto: "udp", port: 53 }] });
    expect(plan.rules).toEqual([
      { family: 4, priority: 5200, ipproto: "tcp", sport: { lo: 80, hi: 80 }, table: "main" },
      { family: 4, priority: 5201, ipproto: "udp", sport: { lo: 53, hi: 53 }, table: "main" },
      suppressMain,
      lookup211,
    ]);
  });

  test("they stay while the kill switch is engaged, and exist per family", () => {
    const published = [{ proto: "tcp" as const, port: 8080 }];
    const blocked = desired(["0.0.0.0/0"], { via: undefined, block: true, ipv6: true, published });
    expect(blocked.rules.filter((rule) => rule.priority === 5200)).toEqual([
      { family: 4, priority: 5200, ipproto: "tcp", sport: { lo: 8080, hi: 8080 }, table: "main" },
      { family: 6, priority: 5200, ipproto: "tcp", sport: { lo: 8080, hi: 8080 }, table: "main" },
    ]);
  });

  test("no rules at all: nothing, not even published-port rules", () => {
    expect(desired(["2001:db8::/32"], { published: [{ proto: "tcp", port: 80 }] })).toEqual({ routes: [], rules: [], families: [4] });
  });

  test("10 published ranges fit (5200-5209); 11 throw a clear error", () => {
    const ports = (count: number) => Array.from({ length: count }, (_, index) => ({ proto: "tcp" as const, port: 1000 + index * 2 }));
    expect(desired(["0.0.0.0/0"], { published: ports(10) }).rules[9]).toMatchObject({ priority: 5209, sport: { lo: 1018, hi: 1018 } });
    expect(() => desired(["0.0.0.0/0"], { published: ports(11) })).toThrow("11 published port ranges; at most 10");
  });
});

describe("publishedRanges", () => {
  test("contiguous ports merged, per protocol, duplicates once, sorted", () => {
    const published = [
      { proto: "tcp" as const, port: 8080 },
      { proto: "tcp" as const, port: 81 },
      { proto: "udp" as const, port: 53 },
      { proto: "tcp" as const, port: 80 },
      { proto: "tcp" as const, port: 82 },
      { proto: "tcp" as const, port: 80 },
      { proto: "udp" as const, port: 54 },
      { proto: "tcp" as const, port: 443 },
    ];
    expect(publishedRanges(published)).toEqual([
      { ipproto: "tcp", ports: { lo: 80, hi: 82 } },
      { ipproto: "tcp", ports: { lo: 443, hi: 443 } },
      { ipproto: "tcp", ports: { lo: 8080, hi: 8080 } },
      { ipproto: "udp", ports: { lo: 53, hi: 54 } },
    ]);
  });

  test("tcp and udp on the same ports are not merged together", () => {
    expect(publishedRanges([{ proto: "tcp", port: 80 }, { proto: "udp", port: 81 }])).toEqual([
      { ipproto: "tcp", ports: { lo: 80, hi: 80 } },
      { ipproto: "udp", ports: { lo: 81, hi: 81 } },
    ]);
    expect(publishedRanges([])).toEqual([]);
  });
});

describe("desiredNetns: MTU", () => {
  test("mtu lock only on routes with a gateway", () => {
    expect(desired(["0.0.0.0/0", "0.0.0.0/0:tcp:443"], { mtu: 1280, ipv6: true }).routes).toEqual([
      { family: 4, table: "212", dst: "default", via: W, mtu: 1280 },
      { family: 4, table: "211", dst: "default", via: W, mtu: 1280 },
      { family: 6, table: "212", dst: "default" },
      { family: 6, table: "211", dst: "default" },
    ]);
    expect(desired(["0.0.0.0/0"], { mtu: 1280, via: undefined, block: true }).routes).toEqual([{ family: 4, table: "211", dst: "default" }]);
  });

  test("no mtu key without an MTU", () => {
    for (const route of desired(["0.0.0.0/0"]).routes) expect("mtu" in route).toBe(false);
  });
});
