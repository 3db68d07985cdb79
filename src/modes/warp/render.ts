import { textTable } from "../../core/text-table.ts";
import { actionText } from "./diff.ts";
import type { DnsReport } from "./dns.ts";
import type { Inspection, TargetStatus } from "./status.ts";

/** Where lookups leave, in a word per server (`10.0.0.2:warp`). */
function dnsSummary(dns: DnsReport): string {
  return dns.servers.map((entry) => `${entry.server}:${entry.via}`).join(",") || "-";
}

/** `warp status` as a table a person reads at a glance, with details under it. */
export function formatStatusTable(rows: TargetStatus[]): string {
  if (rows.length === 0) return "no target containers (none running with the target label)";
  // Rows read from a real engine always know their runtime and DNS; rows that do not (made by hand)
  // leave the columns out. They come last, so scripts reading the columns before them still can.
  const extra = rows.some((row) => row.startWindow !== undefined || row.dns !== undefined);
  const body = rows.map((row) => [
    row.target,
    row.warp ?? "-",
    row.network ?? "-",
    row.via ?? (row.killSwitch === "engaged" ? "blocked" : "-"),
    row.routes.map((route) => route.split(" ")[0] === "-6" ? `${route.split(" ")[1]}(v6)` : route.split(" ")[0]).join(",") || "-",
    row.killSwitch ?? "-",
    row.state,
    ...(extra ? [row.startWindow === undefined ? "-" : row.startWindow === "none" ? "none" : "until-routed", row.dns ? dnsSummary(row.dns) : "-"] : []),
  ]);
  const notes = rows.flatMap((row) => [
    ...(row.detail ? [`${row.target}: ${row.detail}`] : []),
    ...(row.dns?.remedy ? [`${row.target}: dns: ${row.dns.remedy}`] : []),
    ...row.drift.map((command) => `${row.target}: drift, would run: ${command}`),
  ]);
  return [textTable([["TARGET", "WARP", "NETWORK", "VIA", "ROUTES", "KILL-SWITCH", "STATE", ...(extra ? ["START-WINDOW", "DNS"] : [])], ...body]), ...(notes.length ? ["", ...notes] : [])].join("\n");
}

/** `--dry-run`: per target, the commands that would run, or why nothing will. */
export function formatDryRun(inspections: Inspection[]): string {
  if (inspections.length === 0) return "no target containers: nothing to do";
  return inspections
    .map(({ plan, actions, error }) => {
      const head = `${plan.target.name} (pid ${plan.target.pid})`;
      if (error !== undefined) return `${head}: error: ${error}`;
      const why =
        plan.kind === "route" ? `via ${plan.warp} ${plan.via} on ${plan.network}` : plan.kind === "block" ? `${plan.reason}: block` : plan.kind === "restore" ? `${plan.reason}: restore Docker's route` : "";
      if (actions.length === 0) return `${head}: up to date (${why})`;
      const lines = actions.map((action) => `  nsenter -t ${plan.target.pid} -n ${actionText(action)}`);
      return [`${head}: ${why}`, ...lines].join("\n");
    })
    .join("\n");
}
