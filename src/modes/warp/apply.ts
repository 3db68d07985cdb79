import { DockernetError } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { ipBatch, type BatchLineResult, type IpCommand } from "../../net/ip-batch.ts";
import { normalizeDst, parseRoutes, parseRules } from "../../net/ip-json.ts";
import { actionCommand, diffNetns, ensureActions, warpProto, warpTable, type NetnsAction, type NetnsState } from "./diff.ts";
import type { TargetPlan } from "./plan.ts";

const readCommands: IpCommand[] = [
  ["rule", "show"],
  ["route", "show", "table", warpTable],
];

function stateFrom(lines: BatchLineResult[], offset: number): NetnsState {
  const rules = lines[offset];
  const routes = lines[offset + 1];
  // A table that never held a route does not exist yet: that is an empty table, not an error.
  const routesError = routes?.error?.includes("FIB table does not exist") ? undefined : routes?.error;
  if (rules?.error || routesError) {
    throw new DockernetError(`cannot read routes: ${rules?.error ?? routesError}`, { code: "IP_FAILED" });
  }
  return { rules: parseRules(rules?.output), routes: parseRoutes(routes?.output) };
}

/** Reads dockernet's rules and table in the namespace of `pid` (one process). */
export async function readNetns(pid: number): Promise<NetnsState> {
  return stateFrom(await ipBatch(pid, readCommands), 0);
}

export interface ApplyResult {
  /** The actions that changed something. */
  changed: NetnsAction[];
  /** The namespace after the change. */
  state: NetnsState;
}

function alreadyTrue(action: NetnsAction, error: string | undefined, before: NetnsState | undefined): boolean {
  if (action.op === "rule-add") return error?.includes("File exists") === true;
  if (action.op !== "route-replace" || before === undefined || error) return false;
  return before.routes.some((route) => normalizeDst(route.dst) === action.dst && route.gateway === action.via && route.protocol === warpProto);
}

interface Executed {
  changed: NetnsAction[];
  failures: string[];
  state: NetnsState;
}

/**
 * Runs actions in one `ip -batch` process. With `blind`, the actions are idempotent writes whose
 * effect is judged against a read made in the same process just before them.
 */
async function execute(target: { pid: number; name: string }, actions: NetnsAction[], log: Logger, blind: boolean): Promise<Executed> {
  const { pid, name } = target;
  const head = blind ? readCommands : [];
  const lines = await ipBatch(pid, [...head, ...actions.map(actionCommand), ...readCommands]);
  const before = blind ? stateFrom(lines, 0) : undefined;
  const result: Executed = { changed: [], failures: [], state: stateFrom(lines, head.length + actions.length) };
  actions.forEach((action, index) => {
    const error = lines[head.length + index]?.error;
    const command = `nsenter -t ${pid} -n ip ${actionCommand(action).join(" ")}`;
    if (alreadyTrue(action, error, before)) {
      log.debug("route unchanged", { container: name, pid, command });
    } else if (error) {
      result.failures.push(`${command}: ${error}`);
      log.error("route change failed", { container: name, pid, command, result: error });
    } else {
      result.changed.push(action);
      log.info("route changed", { container: name, pid, command, result: "ok" });
    }
  });
  return result;
}

/**
 * Makes the namespace of a planned target match its plan. A `route` plan is applied in one
 * process (read, idempotent writes, read again); only stale routes of an older plan need a second.
 * A `restore` reads first and removes what dockernet had installed. Every change is logged at
 * info as an audit line (container, namespace pid, command, result).
 */
export async function applyPlan(plan: TargetPlan, log: Logger): Promise<ApplyResult> {
  if (plan.kind === "error") throw new DockernetError(plan.error, { code: "PLAN_ERROR" });
  const target = plan.target;
  let done: Executed;
  if (plan.kind === "route") {
    done = await execute(target, ensureActions(plan), log, true);
  } else {
    const state = await readNetns(target.pid);
    const actions = diffNetns(plan, state);
    if (actions.length === 0) return { changed: [], state };
    done = await execute(target, actions, log, false);
  }
  const stale = done.failures.length === 0 ? diffNetns(plan, done.state).filter((action) => action.op.endsWith("-del")) : [];
  if (stale.length > 0) {
    const more = await execute(target, stale, log, false);
    done = { changed: [...done.changed, ...more.changed], failures: more.failures, state: more.state };
  }
  if (done.failures.length > 0) {
    throw new DockernetError(`container ${target.name}: ${done.failures.join("; ")}`, { code: "ROUTE_FAILED" });
  }
  return { changed: done.changed, state: done.state };
}
