import type { Logger } from "../../core/logger.ts";
import type { ModeTelemetry } from "../../core/telemetry.ts";
import type { DockerClient } from "../../docker/client.ts";
import type { ObservedContainer } from "../../docker/types.ts";
import { labelNames } from "./labels.ts";
import { planTarget, type TargetPlan, type WarpConfig } from "./plan.ts";

export interface WarpContext {
  client: DockerClient;
  config: WarpConfig;
  log: Logger;
  /** Where reconciles and changes are reported (the daemon's /metrics and /healthz). */
  telemetry?: ModeTelemetry;
}

/** Running targets: the containers that carry the target label. */
export async function listTargetIds(context: WarpContext): Promise<string[]> {
  const label = labelNames(context.config.label_prefix).target;
  const containers = await context.client.listContainers({ label: [label] });
  return containers.map((container) => container.id);
}

/** Inspects the warp container named `name`; undefined when no container has exactly that name. */
export async function inspectWarpNamed(context: WarpContext, name: string | undefined): Promise<ObservedContainer | undefined> {
  // Only plain names are looked up: Docker would also resolve an id prefix or reach other endpoints.
  if (name === undefined || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/.test(name)) return undefined;
  const warp = await context.client.inspectContainer(name);
  return warp?.name === name ? warp : undefined;
}

/** Inspects the warp container a target names; undefined when no container has exactly that name. */
export function inspectWarp(context: WarpContext, target: ObservedContainer): Promise<ObservedContainer | undefined> {
  return inspectWarpNamed(context, target.labels[labelNames(context.config.label_prefix).target]);
}

/**
 * Inspects a target and its warp container and plans it; undefined when it is no running target.
 * `warpName`, the target's label as an event or an earlier reconcile saw it, lets both inspects
 * run at once (a container's labels never change, so it is that target's warp container); the
 * inspect is still made now, and made again if the target's label says otherwise. `lookupWarp`
 * answers for the warp container instead of an inspect of its own (the daemon's WarpLookup).
 */
export async function planById(
  context: WarpContext,
  id: string,
  options: { warpName?: string; lookupWarp?: (name: string | undefined) => Promise<ObservedContainer | undefined> } = {},
): Promise<{ target: ObservedContainer; warp?: ObservedContainer; plan: TargetPlan } | undefined> {
  const lookup = options.lookupWarp ?? ((name: string | undefined) => inspectWarpNamed(context, name));
  const early = options.warpName === undefined ? undefined : lookup(options.warpName);
  // Settled by whoever awaits it, or by nobody: a failure then is not an unhandled rejection.
  early?.catch(() => {});
  const target = await context.client.inspectContainer(id);
  const name = target?.labels[labelNames(context.config.label_prefix).target];
  if (!target?.running || name === undefined) return undefined;
  const warp = early !== undefined && name === options.warpName ? await early : await lookup(name);
  return { target, warp, plan: planTarget(target, warp, context.config) };
}

