import { DockernetError } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { ipBatch, type BatchLineResult, type IpCommand } from "../../net/ip-batch.ts";
import { parseRoutes, parseRules } from "../../net/ip-json.ts";
import type { NetnsDesired } from "./desired.ts";
import { actionCommand, actionText, diffNetns, ensureActions, type FamilyState, type NetnsAction, type NetnsState } from "./diff.ts";
import { routeFromJson, routeKey, ruleFromJson, warpTables, type Family, type RuleSpec } from "./netns-spec.ts";
import type { TargetPlan, TargetRef } from "./plan.ts";

const tables: string[] = [warpTables.destinations, warpTables.ports];
// `table all` never fails (a table that never held a route does not exist, and showing it would),
// so each read is exactly two JSON arrays; dockernet's tables are picked out here.
const readCommands: IpCommand[] = [
  ["rule", "show"],
  ["route", "show", "table", "all"],
];

function stateFrom(family: Family, lines: BatchLineResult[], offset: number): FamilyState {
  const [rules, routes] = lines.slice(offset, offset + readCommands.length);
  const failed = [rules, routes].find((line) => line?.error);
  if (failed) throw new DockernetError(`cannot read ${failed.command.join(" ")}: ${failed.error}`, { code: "IP_FAILED" });
  return {
    rules: parseRules(rules?.output).flatMap((rule) => ruleFromJson(family, rule) ?? []) as RuleSpec[],
    routes: parseRoutes(routes?.output)
      .filter((route) => route.table !== undefined && tables.includes(route.table))
      .map((route) => routeFromJson(family, route.table as string, route)),
  };
}

/** Reads dockernet's rules and tables in the namespace of `pid`: one process per family. */
export async function readNetns(target: { pid: number; id: string }, families: readonly Family[]): Promise<NetnsState> {
  const { pid, id } = target;
  const states = await Promise.all(families.map(async (family) => [family, stateFrom(family, await ipBatch(pid, readCommands, { family, containerId: id }), 0)] as const));
  return Object.fromEntries(states) as NetnsState;
}

export interface ApplyResult {
  /** The actions that changed something. */
  changed: NetnsAction[];
  /** The namespace before and after. */
  before: NetnsState;
  state: NetnsState;
}

interface Executed {
  changed: NetnsAction[];
  failures: string[];
  before?: FamilyState;
  after: FamilyState;
}

function alreadyTrue(action: NetnsAction, error: string | undefined, before: FamilyState | undefined): boolean {
  if (action.op === "rule-add") return error?.includes("File exists") === true;
  if (action.op !== "route-replace" || before === undefined || error) return false;
  const key = routeKey(action.route);
  return before.routes.some((route) => routeKey(route) === key);
}

/**
 * Runs one family's actions in one `ip -batch` process, reading the state after them. With
 * `blind`, the actions are idempotent writes judged against a read made just before them.
 */
async function execute(target: TargetRef, family: Family, actions: NetnsAction[], log: Logger, blind: boolean): Promise<Executed> {
  const { pid, name } = target;
  const head = blind ? readCommands : [];
  const lines = await ipBatch(pid, [...head, ...actions.map(actionCommand), ...readCommands], { family, containerId: target.id });
  const before = blind ? stateFrom(family, lines, 0) : undefined;
  const result: Executed = { changed: [], failures: [], before, after: stateFrom(family, lines, head.length + actions.length) };
  actions.forEach((action, index) => {
    const error = lines[head.length + index]?.error;
    const command = `nsenter -t ${pid} -n ${actionText(action)}`;
    if (alreadyTrue(action, error, before)) {
      log.trace("route unchanged", { container: name, pid, command });
    } else if (error) {
      // Port rules need ipproto/dport support (Linux and iproute2 4.17+): name the rule that asked for it.
      const origin = "rule" in action && action.rule.origin ? ` (route rule ${JSON.stringify(action.rule.origin)})` : "";
      result.failures.push(`${command}${origin}: ${error}`);
      log.error("route change failed", { container: name, pid, command, result: error });
    } else {
      result.changed.push(action);
      log.info("route changed", { container: name, pid, command, result: "ok" });
    }
  });
  return result;
}

function onlyFamily(desired: NetnsDesired, family: Family): NetnsDesired {
  return { routes: desired.routes.filter((route) => route.family === family), rules: desired.rules.filter((rule) => rule.family === family), families: [family] };
}

async function applyFamily(target: TargetRef, desired: NetnsDesired, log: Logger): Promise<Executed> {
  const family = desired.families[0] as Family;
  const ensure = ensureActions(desired);
  let done: Executed;
  if (ensure.length > 0) {
    done = await execute(target, family, ensure, log, true);
  } else {
    // Nothing to hold: read first and remove only what dockernet had installed.
    const [state] = Object.values(await readNetns(target, [family])) as FamilyState[];
    const actions = diffNetns(desired, { [family]: state });
    if (actions.length === 0) return { changed: [], failures: [], before: state, after: state as FamilyState };
    done = { ...(await execute(target, family, actions, log, false)), before: state };
  }
  // What is left: what an older plan installed, and a foreign rule at one of our priorities that
  // refused an add ("File exists"); diffNetns deletes such a rule before adding ours again.
  const left = done.failures.length === 0 ? diffNetns(desired, { [family]: done.after }) : [];
  if (left.length === 0) return done;
  const more = await execute(target, family, left, log, false);
  return { changed: [...done.changed, ...more.changed], failures: more.failures, before: done.before, after: more.after };
}

/**
 * Makes a target's namespace match its plan: per family, one process that reads, writes
 * idempotently and reads again; a second only for what an older plan or someone else left. Every change is
 * logged at info as an audit line (container, namespace pid, command, result).
 */
export async function applyPlan(plan: TargetPlan, log: Logger): Promise<ApplyResult> {
  if (plan.kind === "error") throw new DockernetError(plan.error, { code: "PLAN_ERROR" });
  const results = await Promise.all(plan.desired.families.map((family) => applyFamily(plan.target, onlyFamily(plan.desired, family), log))).catch((error: unknown) => {
    // Name the container in errors that only know its namespace pid.
    if (error instanceof DockernetError && !error.message.includes(plan.target.name)) {
      throw new DockernetError(`container ${plan.target.name}: ${error.message}`, { code: error.code, hint: error.hint, cause: error });
    }
    throw error;
  });
  const failures = results.flatMap((result) => result.failures);
  if (failures.length > 0) throw new DockernetError(`container ${plan.target.name}: ${failures.join("; ")}`, { code: "ROUTE_FAILED" });
  const before: NetnsState = {};
  const state: NetnsState = {};
  plan.desired.families.forEach((family, index) => {
    before[family] = results[index]?.before;
    state[family] = results[index]?.after;
  });
  return { changed: results.flatMap((result) => result.changed), before, state };
}

