import { describe, expect, test } from "bun:test";
import { parseCidr } from "../../src/config/cidr.ts";
import { formatRouteRule, parseRouteRule, parseRouteRules } from "../../src/config/route-rule.ts";

describe("parseRouteRule", () => {
  test("IPv4 CIDR, normalised to the network address", () => {
    expect(parseRouteRule("10.1.2.3/8")).toEqual({ cidr: "10.0.0.0/8", family: 4, text: "10.1.2.3/8" });
    expect(parseRouteRule("0.0.0.0/0").cidr).toBe("0.0.0.0/0");
  });

  test("a bare address is a host route", () => {
    expect(parseRouteRule("192.168.1.7").cidr).toBe("192.168.1.7/32");
    expect(parseRouteRule("2001:db8::1")).toMatchObject({ cidr: "2001:db8::1/128", family: 6 });
  });

  test("IPv6: expanded, host bits zeroed, compressed again", () => {
    expect(parseRouteRule("2001:0DB8:0000:0000:0001::1/32").cidr).toBe("2001:db8::/32");
    expect(parseRouteRule("::/0").cidr).toBe("::/0");
    expect(parseRouteRule("1:0:0:1:0:0:0:1").cidr).toBe("1:0:0:1::1/128");
    expect(parseRouteRule("::ffff:10.1.2.3/120").cidr).toBe("::ffff:10.1.2.0/120");
  });

  test("protocol, single port and port range", () => {
    expect(parseRouteRule("10.0.0.0/8:udp")).toMatchObject({ cidr: "10.0.0.0/8", proto: "udp" });
    expect(parseRouteRule("10.0.0.0/8:tcp:443")).toMatchObject({ proto: "tcp", ports: { lo: 443, hi: 443 } });
    expect(parseRouteRule("10.0.0.0/8:tcp:80-443")).toMatchObject({ proto: "tcp", ports: { lo: 80, hi: 443 } });
    expect(parseRouteRule("1.2.3.4:tcp:1-65535")).toMatchObject({ cidr: "1.2.3.4/32", ports: { lo: 1, hi: 65535 } });
  });

  test("IPv6 with protocol and ports, with and without a prefix", () => {
    expect(parseRouteRule("2001:db8::/32:tcp:80-443")).toMatchObject({ cidr: "2001:db8::/32", proto: "tcp", ports: { lo: 80, hi: 443 } });
    expect(parseRouteRule("fe80::1:udp:53")).toMatchObject({ cidr: "fe80::1/128", proto: "udp", ports: { lo: 53, hi: 53 } });
  });

  test("text keeps the rule as written; formatRouteRule writes it canonically", () => {
    const rule = parseRouteRule(" 10.9.0.0/8:tcp:80 ");
    expect(rule.text).toBe("10.9.0.0/8:tcp:80");
    expect(formatRouteRule(rule)).toBe("10.0.0.0/8:tcp:80");
    expect(formatRouteRule(parseRouteRule("::/0:udp:1-2"))).toBe("::/0:udp:1-2");
  });

  const rejected: [string, string][] = [
    ["10.0.0.0/33", '"10.0.0.0/33" is not a CIDR'],
    ["2001:db8::/129", '"2001:db8::/129" is not a CIDR'],
    ["10.0.0.0/08", "is not a CIDR"],
    ["10.0.0/8", "is not a CIDR"],
    ["256.0.0.0/8", "is not a CIDR"],
    ["10.0.0.0/8/8", "is not a CIDR"],
    ["fe80::1%eth0", "not allowed"],
    ["tcp:0", '"tcp:0" is not a CIDR'],
    ["10.0.0.0/8:tcp:0", '"tcp:0" port must be 1-65535'],
    ["10.0.0.0/8:tcp:0-5", '"tcp:0-5" port range must be 1-65535'],
    ["10.0.0.0/8:tcp:1-65536", "port range must be 1-65535"],
    ["10.0.0.0/8:tcp:80-10", '"tcp:80-10" port range is reversed'],
    ["10.0.0.0/8:tcp:8a", "is not a port or port range"],
    ["10.0.0.0/8:tcp:", "is not a port or port range"],
    ["10.0.0.0/8:80", "needs a protocol"],
    ["10.0.0.0/8:80-90", "needs a protocol"],
    ["10.0.0.0/8:icmp", '"icmp" is not a protocol'],
    ["10.0.0.0/8:TCP", "is not a protocol"],
    ["10.0.0.0/8:", "missing protocol"],
    ["10.0.0.0/8:tcp:80:90", "too many parts"],
    ["0.0.0.0/0;rm -rf /", 'not allowed in a rule: ";" " "'],
    ["$(reboot)", "not allowed in a rule"],
    ["10.0.0.0/8\n", "control character"],
    ["", "empty rule"],
    ["   ", "empty rule"],
  ];
  for (const [text, message] of rejected) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseRouteRule(text)).toThrow(message);
    });
  }

  test("a 10 kB value is rejected, and the message stays short", () => {
    const huge = `10.0.0.0/8${"0".repeat(10_240)}`;
    let message = "";
    try {
      parseRouteRule(huge);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("is too long (10250 characters, at most 256)");
    expect(message.length).toBeLessThan(200);
  });
});

describe("parseRouteRules (label values)", () => {
  test("comma-separated, spaces and empty items ignored", () => {
    expect(parseRouteRules("10.0.0.0/8:tcp:80, 2001:db8::/32,,").map((rule) => rule.cidr)).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
  });

  test("no rule at all, or one bad rule, is an error", () => {
    expect(() => parseRouteRules(" , ")).toThrow("no rule given");
    expect(() => parseRouteRules("10.0.0.0/8,10.0.0.0/33")).toThrow('"10.0.0.0/33" is not a CIDR');
  });
});

describe("parseCidr", () => {
  // Input -> what `ip -json -6 route show` printed for a route added with that input (iproute2
  // 6.1, glibc inet_ntop), with the host bits a prefix drops already zero. A route's text must be
  // exactly this, or the route is drift on every reconcile.
  const printedByIp: [string, string][] = [
    // IPv4-mapped and IPv4-compatible (first six groups zero): dotted, however they were written.
    ["::ffff:1.2.3.0/120", "::ffff:1.2.3.0/120"],
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4/128"],
    ["::ffff:1.2.3.4/127", "::ffff:1.2.3.4/127"],
    ["::ffff:0:0/96", "::ffff:0.0.0.0/96"],
    ["0:0:0:0:0:ffff:0:0/100", "::ffff:0.0.0.0/100"],
    ["::ffff:0.0.0.1", "::ffff:0.0.0.1/128"],
    ["::ffff:255.255.255.255", "::ffff:255.255.255.255/128"],
    ["::1.2.3.4", "::1.2.3.4/128"],
    ["::1.2.3.0/120", "::1.2.3.0/120"],
    ["::0.1.0.0", "::0.1.0.0/128"],
    // ...but not when the 7th group is zero too (a run of 7 or 8), nor with anything before `::ffff`.
    ["::0.0.0.2", "::2/128"],
    ["::0.0.1.0/120", "::100/120"],
    ["::0.0.255.255", "::ffff/128"],
    ["::/96", "::/96"],
    ["::ffff:0:1.2.3.4", "::ffff:0:102:304/128"],
    ["::fffe:1.2.3.4", "::fffe:102:304/128"],
    ["::1:ffff:1.2.3.4", "::1:ffff:102:304/128"],
    ["1::ffff:1.2.3.4", "1::ffff:102:304/128"],
    ["::ffff:0:0:1/128", "::ffff:0:0:1/128"],
    // NAT64's well-known prefix stays hexadecimal.
    ["64:ff9b::1.2.3.4", "64:ff9b::102:304/128"],
    ["64:ff9b::/96", "64:ff9b::/96"],
    // RFC 5952: the longest run of zeros, the first of equal runs, never a single group, lower case.
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1/128"],
    ["1:0:1:0:0:1:0:0", "1:0:1::1:0:0/128"],
    ["1:0:0:4:5:0:0:8", "1::4:5:0:0:8/128"],
    ["0:0:1:0:0:0:1:1", "0:0:1::1:1/128"],
    ["1:2:3:4:5:6:0:0", "1:2:3:4:5:6::/128"],
    ["1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0/128"],
    ["0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7/128"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"],
    ["2001:DB8::A", "2001:db8::a/128"],
    ["::1:0:0:0/64", "::/64"],
    ["::", "::/128"],
  ];
  for (const [input, printed] of printedByIp) {
    test(`${input} is written as ip prints it: ${printed}`, () => {
      expect(parseCidr(input)).toEqual({ cidr: printed, family: 6 });
    });
  }

  test("returns undefined for anything that is not a CIDR", () => {
    for (const text of ["", "/8", "1.2.3.4/", "1.2.3.4/-1", "::1::2", "1:2:3:4:5:6:7:8:9", "abc"]) {
      expect(parseCidr(text)).toBeUndefined();
    }
  });
});
