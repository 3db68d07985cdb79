import type { RouteRule } from "../../config/route-rule.ts";
import type { PublishedPort } from "../../docker/types.ts";
import { normalizeDst } from "../../net/ip-json.ts";
import { priority, warpTables, type Family, type PortRange, type RouteSpec, type RuleSpec } from "./netns-spec.ts";

/** What a target's namespace should hold, per family. */
export interface NetnsDesired {
  routes: RouteSpec[];
  rules: RuleSpec[];
  /** Families to read and reconcile (6 only when the target has IPv6). */
  families: Family[];
}

export interface DesiredInput {
  rules: RouteRule[];
  /** The warp container's addresses on the chosen network; absent when the gateway is down. */
  via?: string;
  via6?: string;
  /** Kill switch: every routed destination becomes `unreachable`. */
  block: boolean;
  /** The target has an IPv6 address (so it may have an IPv6 default route). */
  ipv6: boolean;
  published: PublishedPort[];
  mtu?: number;
}

const maxPublishedRanges = priority.suppressMain - priority.published;
const maxPortRules = priority.destinations - priority.portRules;

/** Contiguous published ports merged into ranges, per protocol (one rule each). */
export function publishedRanges(published: PublishedPort[]): { ipproto: "tcp" | "udp"; ports: PortRange }[] {
  const ranges: { ipproto: "tcp" | "udp"; ports: PortRange }[] = [];
  for (const ipproto of ["tcp", "udp"] as const) {
    const ports = [...new Set(published.filter((entry) => entry.proto === ipproto).map((entry) => entry.port))].sort((a, b) => a - b);
    for (const port of ports) {
      const last = ranges.at(-1);
      if (last && last.ipproto === ipproto && last.ports.hi === port - 1) last.ports.hi = port;
      else ranges.push({ ipproto, ports: { lo: port, hi: port } });
    }
  }
  return ranges;
}

/** The rules with IPv6 counterparts: `0.0.0.0/0` also covers `::/0` when the target has IPv6, so no IPv6 default bypasses warp. */
function expand(rules: RouteRule[], ipv6: boolean): RouteRule[] {
  const expanded: RouteRule[] = [];
  for (const rule of rules) {
    if (rule.family === 6 && !ipv6) continue;
    expanded.push(rule);
    if (ipv6 && rule.family === 4 && rule.cidr === "0.0.0.0/0") expanded.push({ ...rule, family: 6, cidr: "::/0" });
  }
  return expanded;
}

function isDefault(cidr: string): boolean {
  return cidr === "0.0.0.0/0" || cidr === "::/0";
}

/**
 * The routes and rules that make a target's traffic for `rules` go through the warp container (or
 * nowhere, when blocked), while its own networks and its published ports keep using Docker's
 * routes. Pure. Throws when there are more rules than dockernet's priority ranges hold.
 */
export function desiredNetns(input: DesiredInput): NetnsDesired {
  const families: Family[] = input.ipv6 ? [4, 6] : [4];
  const routes: RouteSpec[] = [];
  const rules: RuleSpec[] = [];
  const gateway = (family: Family) => (input.block ? undefined : family === 4 ? input.via : input.via6);
  const withMtu = (route: RouteSpec): RouteSpec => (route.via && input.mtu ? { ...route, mtu: input.mtu } : route);
  const expanded = expand(input.rules, input.ipv6);
  for (const family of families) {
    const mine = expanded.filter((rule) => rule.family === family);
    if (mine.length === 0) continue;
    const destinations = mine.filter((rule) => rule.proto === undefined);
    const portRules = mine.filter((rule) => rule.proto !== undefined);
    if (portRules.length > maxPortRules) throw new Error(`${portRules.length} port rules for IPv${family}; at most ${maxPortRules}`);
    const ranges = publishedRanges(input.published);
    if (ranges.length > maxPublishedRanges) throw new Error(`${ranges.length} published port ranges; at most ${maxPublishedRanges}`);
    ranges.forEach((range, index) => rules.push({ family, priority: priority.published + index, ipproto: range.ipproto, sport: range.ports, table: "main" }));
    rules.push({ family, priority: priority.suppressMain, suppressDefault: true, table: "main" });
    portRules.forEach((rule, index) => {
      const spec: RuleSpec = { family, priority: priority.portRules + index, ipproto: rule.proto, table: warpTables.ports, origin: rule.text };
      if (!isDefault(rule.cidr)) spec.to = rule.cidr;
      if (rule.ports) spec.dport = rule.ports;
      rules.push(spec);
    });
    if (portRules.length > 0) routes.push(withMtu({ family, table: warpTables.ports, dst: "default", via: gateway(family) }));
    if (destinations.length > 0) rules.push({ family, priority: priority.destinations, table: warpTables.destinations });
    const seen = new Set<string>();
    for (const rule of destinations) {
      const dst = normalizeDst(rule.cidr);
      if (seen.has(dst)) continue;
      seen.add(dst);
      routes.push(withMtu({ family, table: warpTables.destinations, dst, via: gateway(family) }));
    }
  }
  return { routes: routes.map((route) => (route.via ? route : { family: route.family, table: route.table, dst: route.dst })), rules, families };
}
