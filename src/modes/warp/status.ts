import { errorMessage } from "../../core/errors.ts";
import { mapLimit } from "../../core/map-limit.ts";
import { containerNameservers, hostNameservers } from "./_resolv.ts";
import { readNetns } from "./apply.ts";
import { actionText, diffNetns, type NetnsState } from "./diff.ts";
import { blockedReport, dnsReport, routesDns, type DnsReport } from "./dns.ts";
import { familyFlag, routeKey, ruleKey, type Family } from "./netns-spec.ts";
import type { TargetPlan } from "./plan.ts";
import { listTargetIds, planById, type WarpContext } from "./observe.ts";
import { runtimeName } from "./runtime/daemon-json.ts";

/** One row of `warp status`: what is really in the target's namespace, beside the plan. */
export interface TargetStatus {
  target: string;
  id: string;
  pid: number;
  warp: string | null;
  network: string | null;
  /** The gateway of dockernet's IPv4 routes in the real table (null when none, or blocked). */
  via: string | null;
  via6: string | null;
  /** dockernet's routes in the real tables (`ip -6` ones prefixed `-6`). */
  routes: string[];
  /** dockernet's policy rules in force, by priority. */
  rules: string[];
  /** `armed`: routed, blocks if the gateway goes down; `engaged`: gateway down, destinations unreachable; `off`: Docker's route while the gateway is down. */
  killSwitch: "armed" | "engaged" | "off" | null;
  state: "ok" | "missing" | "stale" | "error";
  /** What differs from the plan: the commands that would repair it. */
  drift: string[];
  /** The OCI runtime it runs under (`dockernet`: routed before its first instruction); absent when inspect did not say. */
  runtime?: string;
  /** How long it may leak when it starts: `none` under dockernet's runtime, else until the daemon routes it. */
  startWindow?: "none" | "until the daemon routes it";
  /** Where its DNS lookups leave (absent when it cannot be planned). */
  dns?: DnsReport;
  detail?: string;
}

/** Everything a status row or a dry run needs about one target. */
export interface Inspection {
  plan: TargetPlan;
  state?: NetnsState;
  actions: ReturnType<typeof diffNetns>;
  error?: string;
  /** The OCI runtime of the target. */
  runtime?: string;
  dns?: DnsReport;
}

/** Plans every running target and reads its namespace, changing nothing. */
export async function inspectTargets(context: WarpContext): Promise<Inspection[]> {
  const [ids, host] = await Promise.all([listTargetIds(context), hostNameservers()]);
  // A few targets at a time: each costs two inspects and one or two nsenter processes.
  const rows = await mapLimit(ids, 8, async (id): Promise<Inspection | undefined> => {
    const planned = await planById(context, id);
    if (planned === undefined) return undefined;
    const { plan, target } = planned;
    const runtime = target.runtime === undefined ? {} : { runtime: target.runtime };
    if (plan.kind === "error") return { plan, actions: [], error: plan.error, ...runtime };
    const servers = { container: await containerNameservers(target.resolvConfPath), configured: target.dns ?? [], host };
    const report = dnsReport(servers, (server) => routesDns(plan.desired, server), plan.kind === "route" ? plan.via : undefined);
    const dns = plan.kind === "block" ? blockedReport(report) : report;
    try {
      const state = await readNetns(plan.target, plan.desired.families);
      return { plan, state, actions: diffNetns(plan.desired, state), ...runtime, dns };
    } catch (error) {
      return { plan, actions: [], error: errorMessage(error), ...runtime, dns };
    }
  });
  return rows.filter((row): row is Inspection => row !== undefined).sort((a, b) => a.plan.target.name.localeCompare(b.plan.target.name));
}

function gateway(state: NetnsState | undefined, family: Family): string | null {
  const routes = state?.[family]?.routes ?? [];
  return (routes.find((route) => route.dst === "default") ?? routes[0])?.via ?? null;
}

function killSwitch(plan: TargetPlan): TargetStatus["killSwitch"] {
  if (plan.kind === "block") return "engaged";
  if (plan.kind === "restore") return "off";
  if (plan.kind === "route") return plan.onDown === "block" ? "armed" : "off";
  return null;
}

/** A status row from an inspection: the state is judged from the real tables. */
export function statusRow(inspection: Inspection): TargetStatus {
  const { plan, state, actions } = inspection;
  const families = Object.keys(state ?? {}).map(Number) as Family[];
  const routes = families.flatMap((family) => (state?.[family]?.routes ?? []).map((route) => `${familyFlag(family)}${routeKey(route)}`));
  const rules = families.flatMap((family) => (state?.[family]?.rules ?? []).map((rule) => `${familyFlag(family)}${ruleKey(rule)}`));
  const row: TargetStatus = {
    target: plan.target.name,
    id: plan.target.id.slice(0, 12),
    pid: plan.target.pid,
    warp: plan.warp ?? null,
    network: plan.kind === "route" ? plan.network : null,
    via: gateway(state, 4),
    via6: gateway(state, 6),
    routes,
    rules,
    killSwitch: killSwitch(plan),
    state: "ok",
    drift: actions.map(actionText),
  };
  if (inspection.runtime !== undefined) {
    row.runtime = inspection.runtime;
    row.startWindow = inspection.runtime === runtimeName ? "none" : "until the daemon routes it";
  }
  if (inspection.dns !== undefined) row.dns = inspection.dns;
  if (inspection.error !== undefined) return { ...row, state: "error", detail: inspection.error };
  if (plan.kind === "block") row.detail = `${plan.reason}; kill switch engaged: routed destinations are unreachable`;
  if (plan.kind === "restore") row.detail = `${plan.reason}; Docker's own route in use`;
  if (actions.length === 0) return row;
  const nothingOfOurs = routes.length === 0 && rules.length === 0;
  return { ...row, state: plan.kind !== "restore" && nothingOfOurs ? "missing" : "stale" };
}
