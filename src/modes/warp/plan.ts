import type { ObservedContainer } from "../../docker/types.ts";
import { matchGlob } from "./_glob.ts";
import type { GatewayDownAction, WarpConfig } from "./config.ts";
import { desiredNetns, type NetnsDesired } from "./desired.ts";
import { labelNames, parseTargetLabels, parseWarpNetworkLabel } from "./labels.ts";

export type { WarpConfig } from "./config.ts";

export interface TargetRef {
  id: string;
  name: string;
  pid: number;
}

/** What one target should look like, computed from inspected Docker state only. */
export type TargetPlan =
  /** Route the rules' destinations via the warp container's address on `network`. */
  | { kind: "route"; target: TargetRef; warp: string; network: string; via: string; via6?: string; onDown: GatewayDownAction; desired: NetnsDesired }
  /** Kill switch: the gateway is down, so the rules' destinations are unreachable (nothing leaks). */
  | { kind: "block"; target: TargetRef; warp: string; reason: string; desired: NetnsDesired }
  /** The gateway is down and the target asked for Docker's own route meanwhile: dockernet's rules and routes are removed. */
  | { kind: "restore"; target: TargetRef; warp: string; reason: string; desired: NetnsDesired }
  /** The target cannot be planned (bad label, no usable network): nothing is changed for it. */
  | { kind: "error"; target: TargetRef; warp?: string; error: string };

function refOf(container: ObservedContainer): TargetRef {
  return { id: container.id, name: container.name, pid: container.pid };
}

function list(names: string[]): string {
  return names.length === 0 ? "none" : names.join(", ");
}

function chooseNetwork(target: ObservedContainer, warp: ObservedContainer, preference: { network?: string; by: string; label: string }): string | Error {
  const preferred = preference.network;
  const targetNets = target.networks.map((network) => network.name);
  const warpNets = warp.networks.map((network) => network.name);
  if (preferred !== undefined) {
    if (targetNets.includes(preferred) && warpNets.includes(preferred)) return preferred;
    return new Error(
      `network ${preferred} (from ${preference.by}) is not shared: ${target.name} is on ${list(targetNets)}, ${warp.name} is on ${list(warpNets)}`,
    );
  }
  const shared = targetNets.filter((name) => warpNets.includes(name));
  if (shared.length === 1) return shared[0] as string;
  if (shared.length === 0) {
    return new Error(`${target.name} and ${warp.name} share no network (${target.name} is on ${list(targetNets)}, ${warp.name} is on ${list(warpNets)})`);
  }
  return new Error(
    `${target.name} and ${warp.name} share several networks (${list(shared)}); set the label ${preference.label} on one of them`,
  );
}

/**
 * Plans one target: which warp container, which network, which routes. Pure: the same inspected
 * state always gives the same plan. `warp` is the inspected container the target's label names,
 * or undefined when no container has that name.
 */
export function planTarget(target: ObservedContainer, warp: ObservedContainer | undefined, config: WarpConfig): TargetPlan {
  const ref = refOf(target);
  const names = labelNames(config.label_prefix);
  let labels;
  try {
    labels = parseTargetLabels(target.name, target.labels, config.label_prefix);
  } catch (error) {
    return { kind: "error", target: ref, error: (error as Error).message };
  }
  const fail = (error: string): TargetPlan => ({ kind: "error", target: ref, warp: labels.target, error: `container ${target.name}: ${error}` });
  if (!matchGlob(config.container_pattern, labels.target)) {
    return fail(`label ${names.target}: ${JSON.stringify(labels.target)} does not match warp.container_pattern ${JSON.stringify(config.container_pattern)}`);
  }
  if (labels.target === target.name) return fail(`label ${names.target}: a container cannot be its own warp container`);
  if (/^(host|none)$|^container:/.test(target.networkMode)) {
    return fail(`network mode ${target.networkMode} has no network namespace of its own to route`);
  }
  const rules = labels.routes ?? config.routes;
  const mtu = (labels.mtu ?? config.mtu) || undefined;
  const ipv6 = target.networks.some((network) => network.ipv6 !== undefined);
  const desired = (via?: string, via6?: string): NetnsDesired | Error => {
    try {
      return desiredNetns({ rules, via, via6, block: via === undefined, ipv6, published: target.published, mtu });
    } catch (error) {
      return error as Error;
    }
  };
  const down = (reason: string, warpName: string): TargetPlan => {
    if ((labels.onDown ?? config.on_gateway_down) === "restore") {
      return { kind: "restore", target: ref, warp: warpName, reason, desired: { routes: [], rules: [], families: ipv6 ? [4, 6] : [4] } };
    }
    const blocked = desired();
    return blocked instanceof Error ? fail(blocked.message) : { kind: "block", target: ref, warp: warpName, reason, desired: blocked };
  };
  if (warp === undefined) return down(`warp container ${labels.target} does not exist`, labels.target);
  if (!warp.running) return down(`warp container ${labels.target} is not running`, labels.target);

  let warpPreference: string | undefined;
  try {
    warpPreference = parseWarpNetworkLabel(warp.name, warp.labels, config.label_prefix);
  } catch (error) {
    return { kind: "error", target: ref, warp: warp.name, error: `container ${target.name}: warp ${(error as Error).message}` };
  }
  const preferredBy = labels.network !== undefined ? `label ${names.network} on ${target.name}` : `label ${names.network} on ${warp.name}`;
  const network = chooseNetwork(target, warp, { network: labels.network ?? warpPreference, by: preferredBy, label: names.network });
  if (network instanceof Error) return fail(network.message);

  const endpoint = warp.networks.find((entry) => entry.name === network);
  if (endpoint?.ipv4 === undefined) return down(`warp container ${warp.name} has no IPv4 address on ${network}`, warp.name);
  const routed = desired(endpoint.ipv4, endpoint.ipv6);
  if (routed instanceof Error) return fail(routed.message);
  const onDown = labels.onDown ?? config.on_gateway_down;
  const plan: TargetPlan = { kind: "route", target: ref, warp: warp.name, network, via: endpoint.ipv4, onDown, desired: routed };
  if (endpoint.ipv6 !== undefined) plan.via6 = endpoint.ipv6;
  return plan;
}
