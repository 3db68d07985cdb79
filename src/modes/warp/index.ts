import { errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { ModeTelemetry } from "../../core/telemetry.ts";
import type { DockerClient } from "../../docker/client.ts";
import type { EventBus } from "../../docker/event-bus.ts";
import type { WarpConfig } from "./plan.ts";
import { WarpReconciler } from "./reconciler.ts";
import { formatDryRun } from "./render.ts";
import { inspectTargets, statusRow, type TargetStatus } from "./status.ts";

export type { TargetStatus } from "./status.ts";
export { formatStatusTable } from "./render.ts";

export interface WarpOptions {
  client: DockerClient;
  config: WarpConfig;
  log: Logger;
  telemetry?: ModeTelemetry;
}

/** A running mode on the shared events stream. */
export interface RunningMode {
  stop(): Promise<void>;
}

/**
 * Starts the warp daemon on a bus that is already open (so nothing is missed between the scan
 * and the first event): a full reconcile, then events, periodic resyncs, and resyncs after the
 * stream reconnects.
 */
export async function startWarp(options: WarpOptions & { bus: EventBus }): Promise<RunningMode> {
  const reconciler = new WarpReconciler(options);
  const unsubscribe = options.bus.subscribe(reconciler.handler);
  reconciler.driver.start();
  await reconciler.driver.resync();
  options.log.info("warp started", { pattern: options.config.container_pattern });
  return {
    async stop() {
      unsubscribe();
      await reconciler.driver.stop();
    },
  };
}

/** One full reconcile (`--once`): 0 when every target is as planned, else 1 with a line per failure. */
export async function runWarpOnce(options: WarpOptions): Promise<{ exitCode: 0 | 1; failures: string[]; targets: number }> {
  const reconciler = new WarpReconciler(options);
  await reconciler.driver.resync();
  await reconciler.driver.drain();
  const failures: string[] = [];
  for (const result of reconciler.driver.results.values()) {
    if (!result.ok) failures.push(errorMessage(result.error));
  }
  return { exitCode: failures.length === 0 ? 0 : 1, failures, targets: reconciler.driver.results.size };
}

/** The plan of every target and what it would change (`--once --dry-run`); changes nothing. */
export async function warpDryRun(options: WarpOptions): Promise<{ text: string; exitCode: 0 | 1 }> {
  const inspections = await inspectTargets(options);
  return { text: formatDryRun(inspections), exitCode: inspections.some((row) => row.error !== undefined) ? 1 : 0 };
}

/** What is routed where, read from the real route tables. */
export async function warpStatus(options: WarpOptions): Promise<TargetStatus[]> {
  return (await inspectTargets(options)).map(statusRow);
}
