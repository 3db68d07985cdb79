import { textTable } from "../../core/text-table.ts";
import type { JoinPlan } from "./plan.ts";
import { proxyHint, type NetworkStatus } from "./status.ts";

/** The proxy in one line: where it is, or why nothing can change. */
export function describeProxy(plan: JoinPlan): string {
  const { proxy } = plan;
  if (plan.blocked !== undefined) return `proxy ${proxy.name}: ${plan.blocked}`;
  return `proxy ${proxy.name}: running (${proxy.state === "running" ? proxy.id.slice(0, 12) : "-"})`;
}

/** `join status`: one row per network, under a line about the proxy. */
export function formatStatusTable(plan: JoinPlan, rows: NetworkStatus[]): string {
  const body = rows.map((row) => [row.network, row.driver, row.routable.join(",") || "-", row.joined ? "yes" : "no", row.state, row.why]);
  const hint = proxyHint(plan);
  return [describeProxy(plan), ...(hint === undefined ? [] : [`hint: ${hint}`]), "", textTable([["NETWORK", "DRIVER", "ROUTABLE", "JOINED", "STATE", "WHY"], ...body])].join("\n");
}

/** `--dry-run`: the changes as the docker commands that would make them, or why there are none. */
export function formatDryRun(plan: JoinPlan): string {
  if (plan.blocked !== undefined) return `${describeProxy(plan)}: nothing to do`;
  const name = plan.proxy.name;
  if (plan.actions.length === 0) {
    const joined = plan.networks.filter((decision) => decision.joined).map((decision) => decision.network.name);
    return `${describeProxy(plan)}: up to date (joined: ${joined.join(", ") || "none"})`;
  }
  const lines = plan.actions.map((action) => `  docker network ${action.op} ${action.network.name} ${name}   # ${action.why}`);
  return [`${describeProxy(plan)}: ${plan.actions.length} change${plan.actions.length === 1 ? "" : "s"}`, ...lines].join("\n");
}
