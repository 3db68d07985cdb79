import { textTable } from "../../core/text-table.ts";
import type { BridgeStatus } from "./local/control.ts";

/** The warnings block: one line each, the container first (what `docker ps` names). */
function warningLines(status: BridgeStatus): string[] {
  // `?? []`: a bridge started before warnings were reported answers without the field.
  const warnings = status.warnings ?? [];
  if (warnings.length === 0) return [];
  return [`warnings: ${warnings.length}`, ...warnings.map((warning) => `  ${warning.container}: ${warning.message} (since ${warning.since})`), ""];
}

/** `bridge status` as text: the link, the engine, activity, the warnings, then a row per forward. */
export function formatStatus(status: BridgeStatus): string {
  const { ssh, docker, activity } = status;
  const lines = [
    `bridge ${status.socket} (PID ${status.pid}), provider ${status.provider}`,
    `server:   ${status.server ? `${status.server.name} at ${status.server.address}${status.server.hourly_price ? `, ${status.server.hourly_price}` : ""}` : "none (created on the next Docker connection)"}`,
    `ssh:      ${ssh.connected ? `connected since ${ssh.since}` : "down"}, ${ssh.reconnects} reconnects${ssh.last_error ? `; last error: ${ssh.last_error}` : ""}`,
    `docker:   ${docker.reachable ? "reachable" : "not reachable"}${docker.last_check ? `, last check ${docker.last_check}` : ""}${docker.last_error ? `; last error: ${docker.last_error}` : ""}`,
    `activity: ${activity.connections} connections, ${activity.bytes} bytes relayed, idle ${activity.idle_s} s${activity.idle_time_left_s === null ? "" : `, ${activity.idle_time_left_s} s left before the server is destroyed`}`,
    ...idleLines(status),
    "",
    ...warningLines(status),
  ];
  if (status.forwards.length === 0) return [...lines, "no forwarded ports"].join("\n");
  const rows = status.forwards.map((forward) => [forward.container, String(forward.requested), String(forward.actual), forward.remote, String(forward.bytes), String(forward.connections)]);
  return [...lines, textTable([["CONTAINER", "REQUESTED", "LOCAL", "REMOTE", "BYTES", "CONNECTIONS"], ...rows])].join("\n");
}

/** Why the server is not idle: the containers running on it (a block of its own). */
function idleLines(status: BridgeStatus): string[] {
  const kept = status.idle?.kept_by ?? [];
  if (kept.length === 0) return [];
  return [`idle:     not idle, kept by ${kept.length} running container${kept.length === 1 ? "" : "s"}: ${kept.join(", ")} (label dockernet.bridge.idle=ignore to not count one)`];
}
