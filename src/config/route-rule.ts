import * as v from "valibot";
import { parsedBy } from "./_parse.ts";
import { quote, show } from "./_quote.ts";
import { parseCidr } from "./cidr.ts";
import { writtenAs } from "./spec.ts";

/** One routing rule `cidr[:proto[:lo-hi]]` of `warp.routes` or the `network.warp.routes` label. */
export interface RouteRule {
  /** Canonical network: `10.0.0.0/8`, `2001:db8::/32` (host bits zeroed). */
  cidr: string;
  family: 4 | 6;
  proto?: "tcp" | "udp";
  ports?: { lo: number; hi: number };
  /** The rule as written (surrounding spaces trimmed). */
  text: string;
}

const maxRuleLength = 256;

/**
 * Parse one rule. Throws a plain Error whose message names the bad part, but not the field:
 * callers know whether it came from a config key or a container label.
 */
export function parseRouteRule(text: string): RouteRule {
  if (text.length > maxRuleLength) {
    throw new Error(`${quote(text)} is too long (${text.length} characters, at most ${maxRuleLength})`);
  }
  // Control characters first: the generic check below would quote them invisibly.
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new Error(`${quote(text)} contains a control character`);
  const rule = text.trim();
  if (rule === "") throw new Error("empty rule");
  const bad = [...new Set(rule.replace(/[0-9A-Za-z.:/-]/g, ""))];
  if (bad.length > 0) {
    throw new Error(`${quote(rule)} contains characters not allowed in a rule: ${bad.map((c) => quote(c)).join(" ")}`);
  }
  const [cidrText, tail] = splitRule(rule);
  const network = parseCidr(cidrText);
  if (network === undefined) throw new Error(`${quote(cidrText)} is not a CIDR`);
  return { ...network, ...parseTail(tail), text: rule };
}

/** Parse a comma-separated list of rules (a label value). Empty items are skipped; no rule at all is an error. */
export function parseRouteRules(text: string): RouteRule[] {
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length === 0) throw new Error("no rule given");
  return items.map(parseRouteRule);
}

/** Write a rule back in canonical form: `10.0.0.0/8:tcp:80-443`. */
export function formatRouteRule(rule: RouteRule): string {
  const ports = rule.ports === undefined ? "" : rule.ports.lo === rule.ports.hi ? `:${rule.ports.lo}` : `:${rule.ports.lo}-${rule.ports.hi}`;
  return `${rule.cidr}${rule.proto === undefined ? "" : `:${rule.proto}`}${ports}`;
}

/** A string parsed into a RouteRule; the issue message is parseRouteRule's. */
export const routeRuleSchema = writtenAs(v.pipe(v.string((issue) => `must be a string (got ${show(issue.input)})`), parsedBy(parseRouteRule)), formatRouteRule);

/**
 * Split the CIDR from `:proto[:ports]`. IPv6 is full of colons, so: after a `/` the first colon
 * ends the CIDR; a bare IPv4 address ends at its first colon; a bare IPv6 address ends before the
 * first segment that cannot be a hex group (`tcp`, `udp`, a typo). A bare IPv6 address followed by
 * a port without protocol stays ambiguous, so it reads as an address (and is rejected or /128).
 */
function splitRule(rule: string): [string, string | undefined] {
  const slash = rule.indexOf("/");
  const colon = slash >= 0 ? rule.indexOf(":", slash) : rule.indexOf(":");
  if (colon < 0) return [rule, undefined];
  if (slash >= 0 || rule.slice(0, colon).includes(".")) {
    return [rule.slice(0, colon), rule.slice(colon + 1)];
  }
  const segments = rule.split(":");
  const end = segments.findIndex((segment, index) => index > 0 && !/^([0-9A-Fa-f]{0,4}|[0-9.]+)$/.test(segment));
  if (end < 0) return [rule, undefined];
  return [segments.slice(0, end).join(":"), segments.slice(end).join(":")];
}

function parseTail(tail: string | undefined): Pick<RouteRule, "proto" | "ports"> {
  if (tail === undefined) return {};
  const [proto = "", ports, ...extra] = tail.split(":");
  if (proto === "") throw new Error(`missing protocol after ":" (tcp or udp)`);
  if (/^[0-9-]+$/.test(proto)) throw new Error(`port ${quote(proto)} needs a protocol first (tcp:${proto} or udp:${proto})`);
  if (proto !== "tcp" && proto !== "udp") throw new Error(`${quote(proto)} is not a protocol (tcp or udp)`);
  if (ports === undefined) return { proto };
  const written = `${proto}:${ports}`;
  if (extra.length > 0) throw new Error(`${quote(tail)} has too many parts (expected proto:port or proto:lo-hi)`);
  const match = /^([0-9]{1,10})(?:-([0-9]{1,10}))?$/.exec(ports);
  if (match === null) throw new Error(`${quote(written)} is not a port or port range (N or lo-hi)`);
  const lo = Number(match[1]);
  const hi = match[2] === undefined ? lo : Number(match[2]);
  const valid = (port: number) => port >= 1 && port <= 65535;
  if (match[2] === undefined && !valid(lo)) throw new Error(`${quote(written)} port must be 1-65535`);
  if (!valid(lo) || !valid(hi)) throw new Error(`${quote(written)} port range must be 1-65535`);
  if (lo > hi) throw new Error(`${quote(written)} port range is reversed (${lo} > ${hi})`);
  return { proto, ports: { lo, hi } };
}
