import { batchLine } from "../../net/ip-batch.ts";
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
  /** The table of `lookup T`; empty for a rule with another action (only read from real tables). */
  table: string;
  /**
   * Only read from real tables: selectors and actions dockernet never writes, one `ip rule` part
   * each (`from 192.0.2.0/24`, `iif eth1`, `not`, `fwmark 0x1/0xff`, `blackhole`...). A rule that
   * has any is never one of dockernet's, so it is drift, and `ip rule del` names it exactly.
   */
  other?: string[];
  /**
   * Only read from real tables: fields of `ip -json rule show` the reader cannot turn back into
   * `ip rule` tokens (a field it does not know, an interface name `ip -batch` would refuse), as
   * `field=value`. They are part of the rule's identity but not of its commands.
   */
  unknown?: string[];
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

/** The tokens of a rule between `pref N` and `lookup T`: its selectors, and a foreign rule's other parts (another action included). */
export function ruleMatch(rule: RuleSpec): string[] {
  // A foreign rule's parts first, as `ip rule show` starts with `not from ...`.
  const tokens = (rule.other ?? []).flatMap((part) => part.split(" "));
  if (rule.to) tokens.push("to", rule.to);
  if (rule.ipproto) tokens.push("ipproto", rule.ipproto);
  if (rule.sport) tokens.push("sport", range(rule.sport));
  if (rule.dport) tokens.push("dport", range(rule.dport));
  if (rule.suppressDefault) tokens.push("suppress_prefixlength", "0");
  return tokens;
}

/** The tokens of `ip rule add|del` after `pref N`. */
export function ruleArgs(rule: RuleSpec): string[] {
  return [...ruleMatch(rule), ...(rule.table ? ["lookup", rule.table] : [])];
}

/** Everything that matters about a rule, as text that compares equal when the rules are equal. */
export function ruleKey(rule: RuleSpec): string {
  return [String(rule.priority), ...ruleMatch(rule), ...(rule.unknown ?? []), ...(rule.table ? ["lookup", rule.table] : [])].join(" ");
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

/** Fields of `ip -json rule show` that `ruleFromJson` reads into the spec's own fields. */
const specFields = ["priority", "table", "dst", "dstlen", "sport", "sport_start", "sport_end", "dport", "dport_start", "dport_end"];
/**
 * Fields that change neither which packets a rule matches nor what it does with them: `protocol`
 * says who added the rule (as for routes, not part of its identity), the others are states of a
 * selector that is foreign anyway (`iif` of an interface that is gone, `goto` to a missing rule).
 */
const labelFields = ["protocol", "iif_detached", "oif_detached", "unresolved"];

/** Fields of one foreign selector or action, and its `ip rule` tokens (none when `ip` has no spelling for it here). */
interface Foreign {
  fields: string[];
  tokens?: string[];
}

function text(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : JSON.stringify(value);
}

/**
 * What a rule holds beyond the selectors and action dockernet writes. The JSON names are those
 * iproute2 6.1 prints: `not` and `l3mdev` as null, `uidrange` as `uid_start`/`uid_end`, `dsfield`
 * as `tos`, `realms` as `flow_from`/`flow_to`, an action other than `lookup` as `action`, `goto`
 * or `nop`; a field it does not know (a newer iproute2's) counts too.
 */
function foreignParts(family: Family, raw: Record<string, unknown>): Foreign[] {
  const found: Foreign[] = [];
  const seen = new Set([...specFields, ...labelFields]);
  const part = (fields: string[], tokens: string[]) => {
    found.push({ fields: fields.filter((field) => field in raw), tokens });
    for (const field of fields) seen.add(field);
  };
  const hostLength = family === 4 ? 32 : 128;
  if ("not" in raw) part(["not"], ["not"]);
  // `ip` prints `"src":"all"` for a rule without `from`, and no `srclen` for a full-length prefix.
  if (raw.src !== undefined && raw.src !== "all") part(["src", "srclen"], ["from", `${text(raw.src)}/${typeof raw.srclen === "number" ? raw.srclen : hostLength}`]);
  seen.add("src");
  if ("tos" in raw) part(["tos"], ["tos", text(raw.tos)]);
  if ("fwmark" in raw || "fwmask" in raw) part(["fwmark", "fwmask"], ["fwmark", "fwmask" in raw ? `${text(raw.fwmark ?? "0")}/${text(raw.fwmask)}` : text(raw.fwmark)]);
  if ("iif" in raw) part(["iif"], ["iif", text(raw.iif)]);
  if ("oif" in raw) part(["oif"], ["oif", text(raw.oif)]);
  if ("l3mdev" in raw) part(["l3mdev"], ["l3mdev"]);
  if ("uid_start" in raw || "uid_end" in raw) part(["uid_start", "uid_end"], ["uidrange", `${text(raw.uid_start)}-${text(raw.uid_end)}`]);
  // dockernet writes `ipproto` tcp or udp, and `suppress_prefixlength` 0 only.
  if (raw.ipproto !== undefined && raw.ipproto !== "tcp" && raw.ipproto !== "udp") part(["ipproto"], ["ipproto", text(raw.ipproto)]);
  seen.add("ipproto");
  if (raw.suppress_prefixlen !== undefined && raw.suppress_prefixlen !== 0) part(["suppress_prefixlen"], ["suppress_prefixlength", text(raw.suppress_prefixlen)]);
  seen.add("suppress_prefixlen");
  if ("suppress_ifgroup" in raw) part(["suppress_ifgroup"], ["suppress_ifgroup", text(raw.suppress_ifgroup)]);
  if ("tun_id" in raw) part(["tun_id"], ["tun_id", text(raw.tun_id)]);
  if ("flow_from" in raw || "flow_to" in raw) part(["flow_from", "flow_to"], ["realms", "flow_from" in raw ? `${text(raw.flow_from)}/${text(raw.flow_to)}` : text(raw.flow_to)]);
  if ("goto" in raw) part(["goto"], ["goto", text(raw.goto)]);
  if ("nop" in raw) part(["nop"], ["nop"]);
  if ("action" in raw) part(["action"], [text(raw.action)]);
  for (const field of Object.keys(raw)) if (!seen.has(field)) found.push({ fields: [field] });
  return found;
}

/** Whether `ip -batch` takes these tokens: src/net/ip-batch.ts refuses anything but plain words. */
function writable(tokens: string[]): boolean {
  try {
    batchLine(tokens);
    return true;
  } catch {
    return false;
  }
}

/**
 * A rule of `ip -json rule show` in spec form; undefined when it is not at one of dockernet's
 * priorities. Every field `ip` printed counts: what the spec has no field for goes to `other` (or
 * `unknown`), so `5250: from 192.0.2.0/24 lookup 211` is not dockernet's `5250: lookup 211`.
 */
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
  for (const { fields, tokens } of foreignParts(family, raw)) {
    if (tokens && writable(tokens)) {
      (spec.other ??= []).push(tokens.join(" "));
    } else {
      // Without tokens `ip rule del` cannot name the part, and removes the first rule that has the rest.
      (spec.unknown ??= []).push(...fields.map((field) => (raw[field] === null ? field : `${field}=${text(raw[field])}`)));
    }
  }
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
