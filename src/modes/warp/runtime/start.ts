import { DockernetError } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import type { ObservedContainer } from "../../../docker/types.ts";
import { applyPlan } from "../apply.ts";
import type { WarpConfig } from "../config.ts";
import { inspectWarp } from "../observe.ts";
import { planTarget, type TargetPlan } from "../plan.ts";
import { containerDir, readContainerFiles, runcState, targetLabel, withIpv6 } from "./bundle.ts";

/**
 * How long the start of a target waits for the warp container's inspect. dockerd waits for the
 * runtime's `start` with no limit of its own, holding the target's lock: a call that never
 * answers would leave `docker run` hanging and the container unkillable.
 */
const inspectTimeoutMs = 10_000;

/** What the runtime knows when `start ID` comes in. */
export interface StartInput {
  runc: string;
  /** runc's global flags as the shim gave them (`--root`, `--log`...), for `runc state`. */
  globals: readonly string[];
  id: string;
  /**
   * The warp config, the engine that started the container (for the warp container's inspect) and
   * a logger; asked for only when the container may be a target, so other starts load no config.
   */
  setup(): Promise<{ config: WarpConfig; dockerHost: string; log: Logger }>;
}

/**
 * Refuses a target whose label could make the warp container's inspect resolve to the target
 * itself, which dockerd holds while it waits for this start: the call would never answer. Its own
 * name is already a plan error; Docker also resolves an id prefix when no container has the name.
 */
function checkNotSelf(target: ObservedContainer, label: string, value: string): void {
  if (target.id.startsWith(value)) {
    throw new DockernetError(`container ${target.name}: label ${label}: ${JSON.stringify(value)} is a prefix of the container's own id`, {
      code: "PLAN_ERROR",
      hint: "name the warp container by a name that is not hexadecimal",
    });
  }
}

/** The warp container's inspect, bounded: failing (so the target does not start) beats a start that never returns. */
async function inspectBounded(...args: Parameters<typeof inspectWarp>): ReturnType<typeof inspectWarp> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DockernetError(`container ${args[1].name}: the warp container's inspect did not answer within ${inspectTimeoutMs} ms`, { code: "DOCKER_TIMEOUT" })), inspectTimeoutMs);
  });
  try {
    return await Promise.race([inspectWarp(...args), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Before `runc start` of a container: when it is a warp target, puts its routes and rules in place
 * in its namespace with the daemon's own plan and apply code, while its process is still parked,
 * so its first instruction already runs routed (or blocked, when its warp container is down).
 * Resolves with the plan applied, or undefined for a container that is not a target. Throws,
 * so the start fails, when the target cannot be planned or its routes cannot be applied.
 */
export async function routeBeforeStart(input: StartInput): Promise<TargetPlan | undefined> {
  const { pid, bundle } = await runcState(input.runc, input.globals, input.id);
  const dir = await containerDir(bundle, input.id);
  if (dir === undefined) return undefined; // not a Docker container: nothing carries labels
  const files = await readContainerFiles(dir, input.id, pid);
  const found = await targetLabel(files.labels, input.setup);
  if (found === undefined) return undefined;
  const { config, dockerHost, log, label, value } = found;
  const target = await withIpv6(files);
  // Every error the labels and the network mode alone decide, before any API call (the label
  // naming the target itself among them: its inspect would wait on this very start).
  const early = planTarget(target, undefined, config);
  if (early.kind === "error") throw new DockernetError(early.error, { code: "PLAN_ERROR" });
  checkNotSelf(target, label, value);
  // Loaded only for targets: a container that is not one starts without Docker API code.
  const { DockerClient } = await import("../../../docker/client.ts");
  const warp = await inspectBounded({ client: new DockerClient(dockerHost), config, log }, target);
  const plan = planTarget(target, warp, config);
  if (plan.kind === "error") throw new DockernetError(plan.error, { code: "PLAN_ERROR" });
  await applyPlan(plan, log);
  const how = plan.kind === "route" ? `routed via ${plan.warp} ${plan.via}` : plan.kind === "block" ? `blocked: ${plan.reason}` : `Docker's route: ${plan.reason}`;
  log.info(`target ${how} before its start`, { container: target.name, pid });
  return plan;
}
