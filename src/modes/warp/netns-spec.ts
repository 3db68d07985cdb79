import type { IpRoute, IpRule } from "../../net/ip-json.ts";

/**
 * What dockernet installs in a target's namespace, in one structured form that plans produce,
 * the real tables are parsed into, and `ip` commands are rendered from: two forms compare by key.
 */
export type Family = 4 | 6;

/** Tables (per namespace): 211 for destination rules, 212 for port rules. Routes carry `proto 211`. */
export const warpTables = { destinations: "211", ports: "212" } as const;
export const warpProto = "211";
/** Rule priorities dockernet owns: 5200-5209 published-port replies, 5210 main without default, 5220-5249 port rules, 5250 table 211. */
export const priority = { published: 5200, suppressMain: 5210, portRules: 5220, destinations: 5250, first: 5200, last: 5299 } as const;

export interface PortRange {
  lo: number;
  hi: number;
}

/** A route in one of dockernet's tables; without `via` it is `unreachable`. */
export interface RouteSpec {
  family: Family;
  table: string;
  /** As `ip` prints it: `default`, `10.0.0.0/8`, `1.2.3.4`. */
  dst: string;
  via?: string;
  mtu?: number;
  /** Only read from real tables: a metric other than the family's default (0, or 1024 for IPv6). */
  metric?: number;
  /** Only read from real tables: a route that is neither `via` nor `unreachable` (`throw`, `dev eth0`...). */
  other?: string;
}

/** A policy rule at one of dockernet's priorities. */
export interface RuleSpec {
  family: Family;
  priority: number;
  /** Destination CIDR with prefix; absent means all. */
  to?: string;
  ipproto?: "tcp" | "udp";
  sport?: PortRange;
  dport?: PortRange;
  /** `suppress_prefixlength 0`: the table without its default routes. */
  suppressDefault?: boolean;
  table: string;
  /** The route rule this policy rule implements, for error messages (not part of its identity). */
  origin?: string;
}

function range(ports: PortRange): string {
  return ports.lo === ports.hi ? String(ports.lo) : `${ports.lo}-${ports.hi}`;
}

/** The identity of a route: one per table and destination. */
export function routeSlot(route: RouteSpec): string {
  return `${route.family} ${route.table} ${route.dst}${route.metric ? ` metric ${route.metric}` : ""}`;
}

/** Everything that matters about a route, as text that compares equal when the routes are equal. */
export function routeKey(route: RouteSpec): string {
  const target = route.via ? `via ${route.via}` : (route.other ?? "unreachable");
  return `${route.dst} ${target} table ${route.table}${route.metric ? ` metric ${route.metric}` : ""}${route.mtu ? ` mtu lock ${route.mtu}` : ""}`;
}

/** The selector tokens of a rule (between `pref N` and `lookup T`). */
export function ruleMatch(rule: RuleSpec): string[] {
  const tokens: string[] = [];
  if (rule.to) tokens.push("to", rule.to);
  if (rule.ipproto) tokens.push("ipproto", rule.ipproto);
  if (rule.sport) tokens.push("sport", range(rule.sport));
  if (rule.dport) tokens.push("dport", range(rule.dport));
  if (rule.suppressDefault) tokens.push("suppress_prefixlength", "0");
  return tokens;
}

export function ruleKey(rule: RuleSpec): string {
  return [String(rule.priority), ...ruleMatch(rule), "lookup", rule.table].join(" ");
}

/** `-6 ` for IPv6 commands, as an operator would type them. */
export function familyFlag(family: Family): string {
  return family === 6 ? "-6 " : "";
}

function portRange(start: unknown, end: unknown, single: unknown): PortRange | undefined {
  if (typeof single === "number") return { lo: single, hi: single };
  if (typeof start === "number" && typeof end === "number") return { lo: start, hi: end };
  return undefined;
}

/** A rule of `ip -json rule show` in spec form; undefined when it is not at one of dockernet's priorities. */
export function ruleFromJson(family: Family, rule: IpRule): RuleSpec | undefined {
  if (rule.priority < priority.first || rule.priority > priority.last) return undefined;
  const raw = rule.raw;
  const spec: RuleSpec = { family, priority: rule.priority, table: rule.table };
  // `ip` leaves out `dstlen` for a full-length prefix (one host).
  if (typeof raw.dst === "string") spec.to = `${raw.dst}/${typeof raw.dstlen === "number" ? raw.dstlen : family === 4 ? 32 : 128}`;
  if (raw.ipproto === "tcp" || raw.ipproto === "udp") spec.ipproto = raw.ipproto;
  const sport = portRange(raw.sport_start, raw.sport_end, raw.sport);
  if (sport) spec.sport = sport;
  const dport = portRange(raw.dport_start, raw.dport_end, raw.dport);
  if (dport) spec.dport = dport;
  if (rule.suppressPrefixLength === 0) spec.suppressDefault = true;
  return spec;
}

/** A route of `ip -json route show table T` in spec form. `ip -json` does not say whether an MTU is locked; dockernet only installs locked ones. */
export function routeFromJson(family: Family, table: string, route: IpRoute): RouteSpec {
  const spec: RouteSpec = { family, table, dst: route.dst };
  if (route.type === "unreachable") {
    // the kill switch's form
  } else if (route.gateway && (route.type ?? "unicast") === "unicast") {
    spec.via = route.gateway;
  } else {
    spec.other = route.type && route.type !== "unicast" ? route.type : `dev ${route.dev ?? "?"}`;
  }
  if (route.mtu) spec.mtu = route.mtu;
  if (route.metric && !(family === 6 && route.metric === 1024)) spec.metric = route.metric;
  return spec;
}
