import { errorMessage } from "../../core/errors.ts";
import type { DaemonContext, ModeContext, OnceResult, RunningMode } from "../types.ts";
import type { WarpConfig } from "./config.ts";
import { WarpReconciler } from "./reconciler.ts";
import { formatDryRun, formatStatusTable } from "./render.ts";
import { inspectTargets, statusRow, type TargetStatus } from "./status.ts";


/**
 * Starts the warp daemon: watches the events stream (open before the scan, so nothing is missed
 * between the scan and the first event), a full reconcile, then events, periodic resyncs, and
 * resyncs after the stream reconnects.
 */
export async function startWarp(context: DaemonContext<WarpConfig>): Promise<RunningMode> {
  const reconciler = new WarpReconciler(context);
  const unsubscribe = await context.watch(reconciler.handler);
  reconciler.driver.start();
  await reconciler.driver.resync();
  context.log.info("warp started", { pattern: context.config.container_pattern });
  return {
    async stop() {
      unsubscribe();
      await reconciler.driver.stop();
    },
    health: () => reconciler.driver.problem(),
  };
}

/** One full reconcile (`--once`): 0 when every target is as planned, else 1 with a line per failure. */
export async function runWarpOnce(context: ModeContext<WarpConfig>): Promise<OnceResult> {
  const reconciler = new WarpReconciler(context);
  await reconciler.driver.resync();
  await reconciler.driver.drain();
  const failures: string[] = [];
  for (const result of reconciler.driver.results.values()) {
    if (!result.ok) failures.push(errorMessage(result.error));
  }
  return { exitCode: failures.length === 0 ? 0 : 1, failures, summary: { targets: reconciler.driver.results.size, failed: failures.length } };
}

/** The plan of every target and what it would change (`--once --dry-run`); changes nothing. */
export async function warpDryRun(context: ModeContext<WarpConfig>): Promise<{ text: string; exitCode: 0 | 1 }> {
  const inspections = await inspectTargets(context);
  return { text: formatDryRun(inspections), exitCode: inspections.some((row) => row.error !== undefined) ? 1 : 0 };
}

/** What is routed where, read from the real route tables. */
export async function warpStatus(context: ModeContext<WarpConfig>): Promise<TargetStatus[]> {
  return (await inspectTargets(context)).map(statusRow);
}

/** `warp status`: a table, or a JSON array with one object per target. */
export async function showWarpStatus(context: ModeContext<WarpConfig>, options: { json: boolean }): Promise<string> {
  const rows = await warpStatus(context);
  return options.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows);
}
