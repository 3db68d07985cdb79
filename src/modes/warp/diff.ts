import { normalizeDst, type IpRoute, type IpRule } from "../../net/ip-json.ts";
import type { TargetPlan } from "./plan.ts";

/** The routing table dockernet owns in each target's namespace, and the protocol its routes carry. */
export const warpTable = "211";
export const warpProto = "211";
/** Policy rules: first main without its default routes, then dockernet's table. */
export const rulePriority = { suppressMain: 5210, lookupWarp: 5211 } as const;

/** What dockernet reads of a target's namespace. */
export interface NetnsState {
  rules: IpRule[];
  /** The routes of dockernet's table. */
  routes: IpRoute[];
}

export type RuleName = keyof typeof rulePriority;

/** One change to a target's namespace. */
export type NetnsAction =
  | { op: "rule-add"; rule: RuleName }
  | { op: "rule-del"; rule: RuleName }
  | { op: "route-replace"; dst: string; via: string }
  | { op: "route-del"; dst: string };

function hasRule(state: NetnsState, rule: RuleName): boolean {
  const priority = rulePriority[rule];
  return state.rules.some((entry) =>
    entry.priority === priority && (rule === "suppressMain" ? entry.table === "main" && entry.suppressPrefixLength === 0 : entry.table === warpTable),
  );
}

/** The routes a plan wants in dockernet's table, keyed by destination as `ip` prints it. */
export function desiredRoutes(plan: TargetPlan): Map<string, string> {
  const routes = new Map<string, string>();
  if (plan.kind === "route") for (const rule of plan.rules) routes.set(normalizeDst(rule.cidr), plan.via);
  return routes;
}

/**
 * The actions that turn `state` into what `plan` wants; empty when it is already right. Routes
 * are added before the rules that use them, and rules removed before their routes, so no packet
 * meets a half-built table. An `error` plan changes nothing.
 */
export function diffNetns(plan: TargetPlan, state: NetnsState): NetnsAction[] {
  if (plan.kind === "error") return [];
  const actions: NetnsAction[] = [];
  const want = desiredRoutes(plan);
  if (plan.kind === "restore") {
    for (const rule of ["lookupWarp", "suppressMain"] as const) if (hasRule(state, rule)) actions.push({ op: "rule-del", rule });
    for (const route of state.routes) actions.push({ op: "route-del", dst: normalizeDst(route.dst) });
    return actions;
  }
  for (const [dst, via] of want) {
    const current = state.routes.find((route) => normalizeDst(route.dst) === dst);
    if (current?.gateway !== via || current.protocol !== warpProto || (current.type ?? "unicast") !== "unicast") {
      actions.push({ op: "route-replace", dst, via });
    }
  }
  for (const route of state.routes) {
    if (!want.has(normalizeDst(route.dst))) actions.push({ op: "route-del", dst: normalizeDst(route.dst) });
  }
  for (const rule of ["suppressMain", "lookupWarp"] as const) if (!hasRule(state, rule)) actions.push({ op: "rule-add", rule });
  return actions;
}

/** The `ip` command of an action (tokens only; no shell ever sees them). */
export function actionCommand(action: NetnsAction): string[] {
  switch (action.op) {
    case "route-replace":
      return ["route", "replace", action.dst, "via", action.via, "table", warpTable, "proto", warpProto];
    case "route-del":
      return ["route", "del", action.dst, "table", warpTable];
    case "rule-add":
      return action.rule === "suppressMain"
        ? ["rule", "add", "pref", String(rulePriority.suppressMain), "lookup", "main", "suppress_prefixlength", "0"]
        : ["rule", "add", "pref", String(rulePriority.lookupWarp), "lookup", warpTable];
    case "rule-del":
      return ["rule", "del", "pref", String(rulePriority[action.rule])];
  }
}

/** The commands that make a `route` plan true whatever the namespace holds (`replace` and tolerated `File exists`). */
export function ensureActions(plan: TargetPlan): NetnsAction[] {
  if (plan.kind !== "route") return [];
  return [
    ...[...desiredRoutes(plan)].map(([dst, via]): NetnsAction => ({ op: "route-replace", dst, via })),
    { op: "rule-add", rule: "suppressMain" },
    { op: "rule-add", rule: "lookupWarp" },
  ];
}
