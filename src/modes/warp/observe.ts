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

/** Inspects the warp container a target names; undefined when no container has exactly that name. */
export async function inspectWarp(context: WarpContext, target: ObservedContainer): Promise<ObservedContainer | undefined> {
  const name = target.labels[labelNames(context.config.label_prefix).target];
  // Only plain names are looked up: Docker would also resolve an id prefix or reach other endpoints.
  if (name === undefined || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/.test(name)) return undefined;
  const warp = await context.client.inspectContainer(name);
  return warp?.name === name ? warp : undefined;
}

/** Inspects a target and its warp container and plans it; undefined when it is no running target. */
export async function planById(context: WarpContext, id: string): Promise<{ target: ObservedContainer; warp?: ObservedContainer; plan: TargetPlan } | undefined> {
  const target = await context.client.inspectContainer(id);
  if (!target?.running || target.labels[labelNames(context.config.label_prefix).target] === undefined) return undefined;
  const warp = await inspectWarp(context, target);
  return { target, warp, plan: planTarget(target, warp, context.config) };
}

