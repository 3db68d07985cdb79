import { DockernetError } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { ModeTelemetry } from "../../core/telemetry.ts";
import { ReconcileDriver, type KeyResult } from "../../core/reconcile-driver.ts";
import type { EventHandler } from "../../docker/event-bus.ts";
import type { JoinDocker } from "./_docker.ts";
import { JoinMemory } from "./_memory.ts";
import type { RetryPolicy } from "./_retry.ts";
import { applyJoin, type ApplyResult } from "./apply.ts";
import { joinEventHandler } from "./events.ts";
import { Cooldown, joinFailed, type FailurePolicy } from "./failures.ts";
import { observe, observeStarted } from "./observe.ts";
import { planJoin, type JoinAction, type JoinContainer, type JoinObserved, type JoinPlan } from "./plan.ts";
import { routability, type JoinConfig } from "./routable.ts";

/** What the reconciler works with; `retry` is for tests (default: dockerRetry). */
export interface JoinContext {
  client: JoinDocker;
  config: JoinConfig;
  log: Logger;
  retry?: RetryPolicy;
  /** Where reconciles and changes are reported (the daemon's /metrics and /healthz). */
  telemetry?: ModeTelemetry;
}

const noChange: ApplyResult = { changed: [], failures: [] };

/** A scan as it stands after the changes made from it. */
function afterChanges(observed: JoinObserved, changed: JoinAction[]): JoinObserved {
  if (observed.proxy.state !== "running" || changed.length === 0) return observed;
  const ids = new Set(observed.proxy.networkIds);
  for (const action of changed) ids[action.op === "connect" ? "add" : "delete"](action.network.id);
  return { ...observed, proxy: { ...observed.proxy, networkIds: [...ids] } };
}

/** The one key: the proxy's whole set of networks is planned at once, so a burst of events is one scan. */
export const proxyKey = "proxy";

/** Scans per trigger (event, resync) at most when each fails: the first and three retries (100, 200, 400 ms later). */
export const scanAttempts = 4;

/**
 * The join reconciler on the shared driver. Each reconcile scans (two list calls, plus one
 * inspect per container never seen before), plans and applies; events only say when. When only
 * starts happened since the last scan, it lists just the containers that started.
 */
export class JoinReconciler {
  readonly driver: ReconcileDriver;
  /** What scans found and events noted, shared with the event handler. */
  readonly memory = new JoinMemory();
  /** The plan of the last reconcile, for `--once`. */
  lastPlan: JoinPlan | undefined;
  /** Resolves with the outcome of the first reconcile (the startup scan). */
  readonly firstRun: Promise<KeyResult>;
  readonly handler: EventHandler;
  readonly #context: JoinContext;
  readonly #policy: FailurePolicy;
  readonly #cooldown: Cooldown;
  #settleFirst: ((result: KeyResult) => void) | undefined;
  #lastObserved: JoinObserved | undefined;
  #reportedBlock: string | undefined;

  constructor(context: JoinContext, policy: FailurePolicy) {
    this.#context = context;
    this.#policy = policy;
    this.#cooldown = new Cooldown(policy.kind === "keep-going" ? (policy.cooldownMs ?? 30_000) : 0, context.log);
    this.firstRun = new Promise((resolve) => {
      this.#settleFirst = (result) => {
        this.#settleFirst = undefined;
        resolve(result);
      };
    });
    this.driver = new ReconcileDriver({
      log: context.log,
      reconcile: () => this.#run(),
      // A resync (periodic, or after the events stream reconnected) is a full scan.
      listKeys: async () => {
        this.memory.hints.full = true;
        return [proxyKey];
      },
      resyncIntervalMs: context.config.resync_interval,
      // Retries do not stack: a scan's API calls are made once each, and only the driver retries
      // a failed scan, so a failing scan lists containers at most `scanAttempts` times per trigger.
      // A network change is retried by itself (withRetry: 4 calls at most), and a change that still
      // fails is JOIN_FAILED, which the driver does not retry (the policy decides what follows).
      attempts: scanAttempts,
      isPermanent: (error) => error instanceof DockernetError && error.code === "JOIN_FAILED",
      observe: (outcome) => {
        context.telemetry?.reconciled(outcome);
        // The startup scan is over when it succeeded or the driver gave up on it.
        if (!outcome.ok && !outcome.retrying) this.#settleFirst?.(this.driver.results.get(proxyKey) ?? { ok: false, error: new Error(outcome.error) });
      },
    });
    this.handler = joinEventHandler(this.memory, this.driver, context);
  }

  async #run(): Promise<void> {
    await this.reconcile();
    this.#settleFirst?.({ ok: true });
  }

  /** One scan, plan and apply. Throws when the scan fails, or a change fails and the policy says so. */
  async reconcile(): Promise<void> {
    const { config, log } = this.#context;
    const started = performance.now();
    const { hints, envCache, pending } = this.memory;
    const early = await this.#leaveEarly();
    const last = this.#lastObserved;
    const full = hints.full || last === undefined || hints.started.size === 0;
    hints.full = false;
    const context = { ...this.#context, envCache, hints };
    const observed = await (full ? observe(context) : observeStarted(context, last, hints)).catch((error: unknown) => {
      hints.full = true;
      throw error;
    });
    const plan = planJoin(observed, config);
    this.lastPlan = plan;
    const routable = (container: JoinContainer) => routability(container.labels, container.envNames, config).routable;
    this.memory.scanned({
      proxyId: plan.proxy.state === "absent" ? undefined : plan.proxy.id,
      routable: observed.containers.filter(routable).map((container) => container.id),
      bystanders: observed.containers.filter((container) => !routable(container)).map((container) => container.id),
    });
    this.#reportBlock(plan);
    const actions = this.#cooldown.filter(plan.actions);
    const applied = plan.proxy.state === "running" && actions.length > 0 ? await applyJoin(plan.proxy, actions, { ...this.#context, pending }) : noChange;
    const result: ApplyResult = { changed: [...early.changed, ...applied.changed], failures: [...early.failures, ...applied.failures] };
    this.#context.telemetry?.actions("applied", result.changed.length);
    this.#context.telemetry?.actions("failed", result.failures.length);
    this.#lastObserved = afterChanges(observed, applied.changed);
    log.debug("reconciled", { scan: full ? "full" : "started", containers: observed.containers.length, changes: result.changed.length, failed: result.failures.length, ms: Math.round(performance.now() - started) });
    if (result.failures.length > 0) this.#onFailures(result.failures);
  }

  /**
   * `docker compose down` removes a network right after its containers stop, and a scan made
   * while Docker cleans up after them takes tens of ms. So when containers died since the last
   * scan, the leaves they cause are planned from that scan without them, and made first; the full
   * scan that follows corrects anything this missed.
   */
  async #leaveEarly(): Promise<ApplyResult> {
    const last = this.#lastObserved;
    const { stopped } = this.memory.hints;
    if (last?.proxy.state !== "running" || stopped.has(last.proxy.id) || !last.containers.some((container) => stopped.has(container.id))) return noChange;
    const plan = planJoin({ ...last, containers: last.containers.filter((container) => !stopped.has(container.id)) }, this.#context.config);
    const leaves = this.#cooldown.filter(plan.actions.filter((action) => action.op === "disconnect"));
    return leaves.length === 0 ? noChange : await applyJoin(last.proxy, leaves, { ...this.#context, pending: this.memory.pending });
  }

  #onFailures(failures: ApplyResult["failures"]): void {
    if (this.#policy.kind === "keep-going") return this.#cooldown.add(failures.map((failure) => failure.action));
    const error = joinFailed(failures);
    if (this.#policy.kind === "fail-fast") this.#policy.fail(error);
    throw error;
  }

  /** Proxy absent, stopped or unusable: said once, not at every event. */
  #reportBlock(plan: JoinPlan): void {
    if (plan.blocked === this.#reportedBlock) return;
    this.#reportedBlock = plan.blocked;
    if (plan.blocked !== undefined) this.#context.log.warn("proxy unavailable, waiting", { proxy: plan.proxy.name, reason: plan.blocked });
  }
}
