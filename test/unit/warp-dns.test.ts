import { describe, expect, test } from "bun:test";
import { blockedReport, dnsReport, nameservers, routesDns } from "../../src/modes/warp/dns.ts";
import { desired } from "./_warp-fixtures.ts";

const everything = desired(["0.0.0.0/0"]);
const viaWarp = (server: string) => routesDns(everything, server);

describe("dnsReport", () => {
  test("user-defined network, the engine's upstream on the host's loopback (a local dnsmasq): asked from the host, past warp", () => {
    const report = dnsReport({ container: ["127.0.0.11"], configured: [], host: ["127.0.0.1"] }, viaWarp, "10.80.1.2");
    expect(report.servers).toEqual([{ server: "127.0.0.1", via: "host" }]);
    expect(report.remedy).toContain("lookups leave from the host, past warp");
    expect(report.remedy).toContain("--dns 10.80.1.2");
  });

  test("user-defined network, an upstream reached through warp: no remedy", () => {
    expect(dnsReport({ container: ["127.0.0.11"], configured: [], host: ["10.255.255.53"] }, viaWarp)).toEqual({ servers: [{ server: "10.255.255.53", via: "warp" }] });
  });

  test("--dns on the container: the embedded resolver asks it from the container's namespace, even a loopback one (its own)", () => {
    expect(dnsReport({ container: ["127.0.0.11"], configured: ["9.9.9.9"], host: ["127.0.0.1"] }, viaWarp).servers).toEqual([{ server: "9.9.9.9", via: "warp" }]);
    expect(dnsReport({ container: ["127.0.0.11"], configured: ["127.0.0.1"], host: ["127.0.0.1"] }, viaWarp).servers).toEqual([{ server: "127.0.0.1", via: "local" }]);
  });

  test("default bridge: the servers in its resolv.conf, asked by the container itself", () => {
    expect(dnsReport({ container: ["8.8.8.8", "8.8.4.4"], configured: [], host: ["127.0.0.53"] }, viaWarp).servers).toEqual([
      { server: "8.8.8.8", via: "warp" },
      { server: "8.8.4.4", via: "warp" },
    ]);
  });

  test("a server outside the routed rules takes Docker's route: said, with a remedy", () => {
    const onlyTen = desired(["10.0.0.0/8"]);
    const report = dnsReport({ container: ["127.0.0.11"], configured: [], host: ["192.168.1.1", "10.0.0.53"] }, (server) => routesDns(onlyTen, server));
    expect(report.servers).toEqual([
      { server: "192.168.1.1", via: "docker" },
      { server: "10.0.0.53", via: "warp" },
    ]);
    expect(report.remedy).toContain("Docker's route");
  });
});

test("blockedReport: a blocked target's lookups that would go through warp go nowhere; a leak past warp stays one", () => {
  const report = dnsReport({ container: ["127.0.0.11"], configured: [], host: ["10.255.255.53", "127.0.0.1"] }, viaWarp);
  expect(blockedReport(report).servers).toEqual([
    { server: "10.255.255.53", via: "blocked" },
    { server: "127.0.0.1", via: "host" },
  ]);
  expect(blockedReport(report).remedy).toBe(report.remedy as string);
});

describe("routesDns", () => {
  test("destination rules, and port rules that cover udp 53", () => {
    expect(routesDns(desired(["10.0.0.0/8"]), "10.1.2.3")).toBe(true);
    expect(routesDns(desired(["10.0.0.0/8"]), "192.168.1.1")).toBe(false);
    expect(routesDns(desired(["0.0.0.0/0:udp:53-53"]), "192.168.1.1")).toBe(true);
    expect(routesDns(desired(["0.0.0.0/0:tcp:80-443"]), "192.168.1.1")).toBe(false);
    expect(routesDns(desired(["192.168.0.0/16:udp"]), "192.168.1.1")).toBe(true);
  });
});

test("nameservers: the nameserver lines of a resolv.conf", () => {
  expect(nameservers("# generated\nnameserver 127.0.0.11\noptions ndots:0\n nameserver  fd00::1\nsearch lan\n")).toEqual(["127.0.0.11", "fd00::1"]);
});
