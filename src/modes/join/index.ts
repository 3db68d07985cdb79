import { DockernetError, errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { ModeTelemetry } from "../../core/telemetry.ts";
import type { DockerClient } from "../../docker/client.ts";
import type { DaemonContext, OnceResult, RunningMode } from "../types.ts";
import type { RetryPolicy } from "./_retry.ts";
import { EnvCache, observe } from "./observe.ts";
import { planJoin, type JoinPlan } from "./plan.ts";
import { JoinReconciler, proxyKey } from "./reconciler.ts";
import { formatDryRun, formatStatusTable } from "./render.ts";
import type { JoinConfig } from "./routable.ts";
import { proxyStatus, statusRows, type NetworkStatus } from "./status.ts";


/** What every join entry point takes. */
export interface JoinOptions {
  client: DockerClient;
  config: JoinConfig;
  log: Logger;
  retry?: RetryPolicy;
  telemetry?: ModeTelemetry;
}

/**
 * Starts the join daemon: watches the events stream (open before the scan, so nothing started
 * during the scan is missed), reconciles once, then follows events, periodic resyncs and resyncs
 * after the stream reconnects. A failed startup scan or network change calls `fail` (exit 1 for
 * a clean restart) unless `join.keep_going` is set.
 */
export async function startJoin(options: DaemonContext<JoinConfig> & { retry?: RetryPolicy }): Promise<RunningMode> {
  const keepGoing = options.config.keep_going;
  const reconciler = new JoinReconciler(options, keepGoing ? { kind: "keep-going" } : { kind: "fail-fast", fail: options.fail });
  const unsubscribe = await options.watch(reconciler.handler);
  const stop = async () => {
    unsubscribe();
    await reconciler.driver.stop();
  };
  reconciler.driver.start();
  await reconciler.driver.resync();
  const first = await reconciler.firstRun;
  if (!first.ok && !keepGoing) {
    await stop();
    const cause = first.error;
    throw new DockernetError(`join: startup reconcile failed: ${errorMessage(cause)}`, {
      code: cause instanceof DockernetError ? cause.code : "JOIN_FAILED",
      hint: cause instanceof DockernetError ? cause.hint : undefined,
      cause,
    });
  }
  if (!first.ok) options.log.error("startup scan failed, carrying on (keep_going)", { error: errorMessage(first.error) });
  options.log.info("join started", { proxy: options.config.container_name });
  return { stop, health: () => reconciler.driver.problem() };
}

/** One reconcile (`--once`): 0 when the proxy is on exactly the networks it should be, else 1 with the reasons. */
export async function runJoinOnce(options: JoinOptions): Promise<OnceResult & { plan?: JoinPlan }> {
  const reconciler = new JoinReconciler(options, { kind: "report" });
  await reconciler.driver.resync();
  await reconciler.driver.drain();
  const result = reconciler.driver.results.get(proxyKey);
  const plan = reconciler.lastPlan;
  const failures = result && !result.ok ? [errorMessage(result.error)] : [];
  if (plan?.blocked !== undefined) failures.push(plan.blocked);
  const networks = plan?.networks.filter((decision) => decision.wanted && decision.counted).map((decision) => decision.network.name);
  const summary = { proxy: options.config.container_name, networks, failed: failures.length };
  return { exitCode: failures.length === 0 ? 0 : 1, failures, summary, ...(plan ? { plan } : {}) };
}

async function scan(options: JoinOptions): Promise<JoinPlan> {
  return planJoin(await observe({ ...options, envCache: new EnvCache() }), options.config);
}

/** The plan as the docker commands it would run (`--once --dry-run`); changes nothing. Exit 1 when the proxy is unavailable. */
export async function joinDryRun(options: JoinOptions): Promise<{ text: string; exitCode: 0 | 1 }> {
  const plan = await scan(options);
  return { text: formatDryRun(plan), exitCode: plan.blocked === undefined ? 0 : 1 };
}

/** Every network: routable containers, whether the proxy is on it, and why. */
export async function joinStatus(options: JoinOptions): Promise<{ plan: JoinPlan; rows: NetworkStatus[] }> {
  const plan = await scan(options);
  return { plan, rows: statusRows(plan) };
}

/** `join status`: a table, or a JSON array with one object per network. */
export async function showJoinStatus(options: JoinOptions, { json }: { json: boolean }): Promise<string> {
  const { plan, rows } = await joinStatus(options);
  return json ? JSON.stringify({ proxy: proxyStatus(plan), networks: rows }, null, 2) : formatStatusTable(plan, rows);
}
