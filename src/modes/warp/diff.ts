import type { NetnsDesired } from "./desired.ts";
import { familyFlag, ruleKey, ruleMatch, routeKey, routeSlot, warpProto, type Family, type RouteSpec, type RuleSpec } from "./netns-spec.ts";

/** What dockernet reads of a target's namespace, per family: its own rules and tables only. */
export interface FamilyState {
  rules: RuleSpec[];
  routes: RouteSpec[];
}
export type NetnsState = Partial<Record<Family, FamilyState>>;

/** One change to a target's namespace. */
export type NetnsAction =
  | { op: "route-replace"; route: RouteSpec }
  | { op: "route-del"; route: RouteSpec }
  | { op: "rule-add"; rule: RuleSpec }
  | { op: "rule-del"; rule: RuleSpec };

/** The family an action applies to. */
export function actionFamily(action: NetnsAction): Family {
  return "route" in action ? action.route.family : action.rule.family;
}

/**
 * The actions that turn `state` into `desired`; empty when it is already right. Routes are set
 * before the rules that use them and rules removed before their routes, so no packet meets a
 * half-built table; a route changes in place (`replace`), so routed <-> blocked has no gap.
 */
export function diffNetns(desired: NetnsDesired, state: NetnsState): NetnsAction[] {
  const adds: NetnsAction[] = [];
  const dels: NetnsAction[] = [];
  for (const family of desired.families) {
    const current = state[family] ?? { rules: [], routes: [] };
    const wantRoutes = desired.routes.filter((route) => route.family === family);
    const wantRules = desired.rules.filter((rule) => rule.family === family);
    const haveRoutes = new Map(current.routes.map((route) => [routeSlot(route), route]));
    const wantSlots = new Set(wantRoutes.map(routeSlot));
    for (const route of wantRoutes) {
      const have = haveRoutes.get(routeSlot(route));
      if (have === undefined || routeKey(have) !== routeKey(route)) adds.push({ op: "route-replace", route });
    }
    const haveRuleKeys = new Set(current.rules.map(ruleKey));
    const wantRuleKeys = new Set(wantRules.map(ruleKey));
    for (const rule of wantRules) if (!haveRuleKeys.has(ruleKey(rule))) adds.push({ op: "rule-add", rule });
    for (const rule of current.rules) if (!wantRuleKeys.has(ruleKey(rule))) dels.push({ op: "rule-del", rule });
    for (const route of current.routes) if (!wantSlots.has(routeSlot(route))) dels.push({ op: "route-del", route });
  }
  return [...adds, ...dels.sort((a, b) => (a.op === b.op ? 0 : a.op === "rule-del" ? -1 : 1))];
}

/** Writes that make `desired` true whatever the namespace holds: `replace` for routes, `add` (with `File exists` tolerated) for rules. */
export function ensureActions(desired: NetnsDesired): NetnsAction[] {
  return [...desired.routes.map((route): NetnsAction => ({ op: "route-replace", route })), ...desired.rules.map((rule): NetnsAction => ({ op: "rule-add", rule }))];
}

/** The `ip` command of an action (tokens only; no shell ever sees them). Run under `ip -6` for IPv6. */
export function actionCommand(action: NetnsAction): string[] {
  switch (action.op) {
    case "route-replace": {
      const { dst, via, table, mtu } = action.route;
      const target = via ? [dst, "via", via] : ["unreachable", dst];
      return ["route", "replace", ...target, "table", table, "proto", warpProto, ...(mtu ? ["mtu", "lock", String(mtu)] : [])];
    }
    case "route-del": {
      // Without a type `ip route del` matches a route of any type; the metric tells routes to one destination apart.
      const { dst, table, metric } = action.route;
      return ["route", "del", dst, "table", table, ...(metric ? ["metric", String(metric)] : [])];
    }
    case "rule-add":
    case "rule-del":
      return ["rule", action.op === "rule-add" ? "add" : "del", "pref", String(action.rule.priority), ...ruleMatch(action.rule), "lookup", action.rule.table];
  }
}

/** An action as an operator would type it inside the namespace: `ip -6 route replace ...`. */
export function actionText(action: NetnsAction): string {
  return `ip ${familyFlag(actionFamily(action))}${actionCommand(action).join(" ")}`;
}
