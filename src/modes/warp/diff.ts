import type { NetnsDesired } from "./desired.ts";
import { familyFlag, priority, ruleArgs, ruleKey, routeKey, routeSlot, warpProto, warpTables, type Family, type RouteSpec, type RuleSpec } from "./netns-spec.ts";

/**
 * What dockernet reads of a target's namespace, per family. The reader passes dockernet's own
 * rules and tables; the diff ignores anything else it is given (Docker's tables main and local,
 * rule 0...), so whatever a caller reads, Docker's own routing is never removed.
 */
export interface FamilyState {
  rules: RuleSpec[];
  routes: RouteSpec[];
}
export type NetnsState = Partial<Record<Family, FamilyState>>;

const ownTables: readonly string[] = Object.values(warpTables);

/** Dockernet owns its two tables whole and its priority range, and never touches anything else. */
function owned(state: FamilyState): FamilyState {
  return {
    rules: state.rules.filter((rule) => rule.priority >= priority.first && rule.priority <= priority.last),
    routes: state.routes.filter((route) => ownTables.includes(route.table)),
  };
}

/** Parts of a rule the kernel ignores, or matches as wildcards, when it checks `ip rule add` for a duplicate. */
const addWildcards: readonly string[] = ["from", "tos", "realms", "not"];

/**
 * Whether `ip rule add` of `want` fails with `File exists` while `have` is there. The kernel takes
 * a rule for a duplicate when it differs only in `from`, `tos`, `realms` or `not`, or has a `to`
 * where the new one has none: `5250: from 192.0.2.0/24 lookup 211` blocks `5250: lookup 211`.
 */
function blocks(have: RuleSpec, want: RuleSpec): boolean {
  if (have.priority !== want.priority || have.table !== want.table) return false;
  // Parts the reader has no tokens for may be anything: deleting such a rule first costs nothing.
  if (have.unknown) return true;
  const bare = (rule: RuleSpec) => ruleKey({ ...rule, to: want.to === undefined ? undefined : rule.to, other: undefined });
  return bare(have) === bare(want) && (have.other ?? []).every((part) => addWildcards.includes(part.split(" ")[0] ?? ""));
}

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
 * half-built table; a route changes in place (`replace`), so routed <-> blocked has no gap. A
 * foreign rule that would make a wanted rule's `ip rule add` fail is deleted just before the adds.
 */
export function diffNetns(desired: NetnsDesired, state: NetnsState): NetnsAction[] {
  const adds: NetnsAction[] = [];
  const dels: NetnsAction[] = [];
  for (const family of desired.families) {
    const current = owned(state[family] ?? { rules: [], routes: [] });
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
    const missing = wantRules.filter((rule) => !haveRuleKeys.has(ruleKey(rule)));
    const extra = current.rules.filter((rule) => !wantRuleKeys.has(ruleKey(rule)));
    const blocking = extra.filter((have) => missing.some((want) => blocks(have, want)));
    for (const rule of blocking) adds.push({ op: "rule-del", rule });
    for (const rule of missing) adds.push({ op: "rule-add", rule });
    for (const rule of extra) if (!blocking.includes(rule)) dels.push({ op: "rule-del", rule });
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
      return ["rule", action.op === "rule-add" ? "add" : "del", "pref", String(action.rule.priority), ...ruleArgs(action.rule)];
  }
}

/** An action as an operator would type it inside the namespace: `ip -6 route replace ...`. */
export function actionText(action: NetnsAction): string {
  return `ip ${familyFlag(actionFamily(action))}${actionCommand(action).join(" ")}`;
}
