import { errorMessage } from "../../core/errors.ts";
import { readNetns } from "./apply.ts";
import { diffNetns, rulePriority, type NetnsAction, type NetnsState } from "./diff.ts";
import type { TargetPlan } from "./plan.ts";
import { listTargetIds, planById, type WarpContext } from "./reconciler.ts";

/** One row of `warp status`: what is really in the target's namespace, beside the plan. */
export interface TargetStatus {
  target: string;
  id: string;
  pid: number;
  warp: string | null;
  network: string | null;
  /** The gateway dockernet's default route uses in the real table, else the first route's. */
  via: string | null;
  /** The routes of dockernet's table, as `dst via gateway`. */
  routes: string[];
  state: "ok" | "missing" | "stale" | "error";
  /** What would change (the `--dry-run` actions). */
  pending: NetnsAction[];
  detail?: string;
}

/** Everything a status row or a dry run needs about one target. */
export interface Inspection {
  plan: TargetPlan;
  state?: NetnsState;
  actions: NetnsAction[];
  error?: string;
}

/** Plans every running target and reads its namespace, changing nothing. */
export async function inspectTargets(context: WarpContext): Promise<Inspection[]> {
  const ids = await listTargetIds(context);
  const rows = await Promise.all(
    ids.map(async (id): Promise<Inspection | undefined> => {
      const planned = await planById(context, id);
      if (planned === undefined) return undefined;
      const { plan } = planned;
      if (plan.kind === "error") return { plan, actions: [], error: plan.error };
      try {
        const state = await readNetns(plan.target.pid);
        return { plan, state, actions: diffNetns(plan, state) };
      } catch (error) {
        return { plan, actions: [], error: errorMessage(error) };
      }
    }),
  );
  return rows.filter((row): row is Inspection => row !== undefined).sort((a, b) => a.plan.target.name.localeCompare(b.plan.target.name));
}

/** A status row from an inspection: the state is judged from the real tables. */
export function statusRow(inspection: Inspection): TargetStatus {
  const { plan, state, actions } = inspection;
  const routes = (state?.routes ?? []).map((route) => `${route.dst}${route.gateway ? ` via ${route.gateway}` : ""}`);
  const defaultRoute = state?.routes.find((route) => route.dst === "default") ?? state?.routes[0];
  const row: TargetStatus = {
    target: plan.target.name,
    id: plan.target.id.slice(0, 12),
    pid: plan.target.pid,
    warp: plan.warp ?? null,
    network: plan.kind === "route" ? plan.network : null,
    via: defaultRoute?.gateway ?? null,
    routes,
    state: "ok",
    pending: actions,
  };
  if (inspection.error !== undefined) return { ...row, state: "error", detail: inspection.error };
  if (plan.kind === "restore") row.detail = `${plan.reason}; Docker's own route in use`;
  if (actions.length === 0) return row;
  const ours = (state?.routes.length ?? 0) > 0 || (state?.rules.some((rule) => Object.values(rulePriority).includes(rule.priority as 5210)) ?? false);
  return { ...row, state: plan.kind === "route" && !ours ? "missing" : "stale" };
}
