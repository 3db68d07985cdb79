/**
 * Where a target's DNS lookups leave, by the rules of Docker's embedded resolver (libnetwork's
 * sandbox DNS setup, Docker 20.10 and later):
 * - A container on a user-defined network asks 127.0.0.11, the embedded resolver, which forwards
 *   to the container's `--dns` servers (sent from the container's namespace: they follow its
 *   routes), else to the servers of the host's resolv.conf: a server on the host's loopback
 *   (127.0.0.53 of systemd-resolved, a local dnsmasq) is asked from dockerd's own namespace, past
 *   every route of the container; any other from the container's namespace.
 * - A container on the default bridge has the servers written in its resolv.conf (the host's
 *   without loopback ones, else Google's) and asks them itself.
 * Pure: the servers go in, a report comes out.
 */
import { parseCidr } from "../../config/cidr.ts";
import type { NetnsDesired } from "./desired.ts";
import { warpTables } from "./netns-spec.ts";

/** The address of Docker's embedded resolver in a container on a user-defined network. */
export const embeddedResolver = "127.0.0.11";

/** The servers a target's lookups may go to, as Docker and the files say. */
export interface DnsInput {
  /** The nameservers of the container's own resolv.conf. */
  container: string[];
  /** Its `--dns` servers (HostConfig.Dns). */
  configured: string[];
  /** The nameservers of the resolv.conf dockerd reads (the host's). */
  host: string[];
}

/** One upstream server and the way a lookup to it takes. */
export interface DnsServer {
  server: string;
  /** `warp`: through the warp container; `blocked`: would go through warp, which is down (the kill switch: nothing leaves); `host`: from dockerd's namespace, past every route; `docker`: Docker's route (not in the routed rules); `local`: the container's own loopback. */
  via: "warp" | "blocked" | "host" | "docker" | "local";
}

/** Where a target's lookups leave (`warp status`). */
export interface DnsReport {
  servers: DnsServer[];
  /** Set when some lookups leave outside warp: what to do about it. */
  remedy?: string;
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

/** Whether `address` is inside `cidr` (`default` for all of the family). */
function within(address: string, cidr: string): boolean {
  if (cidr === "default") return true; // the caller compares families
  const v6 = address.includes(":");
  const prefix = cidr.includes("/") ? cidr.split("/")[1] : v6 ? "128" : "32";
  const network = parseCidr(cidr);
  return network !== undefined && parseCidr(`${address}/${prefix}`)?.cidr === network.cidr;
}

/** Whether the desired state sends a UDP lookup to `server` (port 53) through warp (or blocks it: nothing leaves either way). */
export function routesDns(desired: NetnsDesired, server: string): boolean {
  const family = server.includes(":") ? 6 : 4;
  const byDestination = desired.routes.some((route) => route.family === family && route.table === warpTables.destinations && (route.dst === "default" || within(server, route.dst)));
  const byPort = desired.rules.some(
    (rule) =>
      rule.family === family &&
      rule.table === warpTables.ports &&
      (rule.ipproto === undefined || rule.ipproto === "udp") &&
      (rule.dport === undefined || (rule.dport.lo <= 53 && rule.dport.hi >= 53)) &&
      (rule.to === undefined || within(server, rule.to)),
  );
  return byDestination || byPort;
}

/** The upstream servers of a target and the way each lookup takes; with a remedy when some leave outside warp. */
export function dnsReport(input: DnsInput, routed: (server: string) => boolean, warpAddress?: string): DnsReport {
  const fromContainer = (server: string): DnsServer => ({ server, via: isLoopback(server) ? "local" : routed(server) ? "warp" : "docker" });
  const embedded = input.container.includes(embeddedResolver);
  const direct = input.container.filter((server) => server !== embeddedResolver).map(fromContainer);
  const upstream = !embedded
    ? []
    : input.configured.length > 0
      ? input.configured.map(fromContainer)
      : input.host.filter((server) => !server.includes(":")).map((server): DnsServer => (isLoopback(server) ? { server, via: "host" } : fromContainer(server)));
  const servers = [...upstream, ...direct.filter((entry) => !upstream.some((other) => other.server === entry.server))];
  const report: DnsReport = { servers };
  const gateway = warpAddress ? ` (e.g. --dns ${warpAddress}, the warp container's resolver)` : " (the warp container's resolver)";
  if (servers.some((entry) => entry.via === "host")) {
    report.remedy = `lookups leave from the host, past warp: the engine's upstream is on the host's loopback; give the target --dns with an address reached through warp${gateway}`;
  } else if (servers.some((entry) => entry.via === "docker")) {
    report.remedy = `some lookups take Docker's route (their server is outside the routed rules): route it, or give the target --dns with an address reached through warp${gateway}`;
  }
  return report;
}

/** The report of a blocked target (its warp container down): what would go through warp goes nowhere, and says so. */
export function blockedReport(report: DnsReport): DnsReport {
  return { ...report, servers: report.servers.map((entry): DnsServer => (entry.via === "warp" ? { ...entry, via: "blocked" } : entry)) };
}

/** The `nameserver` lines of a resolv.conf. */
export function nameservers(text: string): string[] {
  return text.split("\n").flatMap((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1] ?? []);
}
