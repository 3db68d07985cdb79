import { DockernetError, errorMessage } from "../../core/errors.ts";
import { ReconcileDriver } from "../../core/reconcile-driver.ts";
import type { EventHandler } from "../../docker/event-bus.ts";
import { eventTimeMs } from "../../docker/events.ts";
import type { DockerEvent } from "../../docker/types.ts";
import { matchGlob } from "./_glob.ts";
import { applyPlan } from "./apply.ts";
import type { NetnsState } from "./diff.ts";
import { familyFlag, routeKey, ruleKey } from "./netns-spec.ts";
import { labelNames } from "./labels.ts";
import { listTargetIds, planById, type WarpContext } from "./observe.ts";
import type { TargetPlan } from "./plan.ts";

/** The rules and routes of a namespace as comparable text. */
function stateKeys(state: NetnsState): string[] {
  return Object.entries(state).flatMap(([family, entries]) => [
    ...(entries?.rules ?? []).map((rule) => `${familyFlag(Number(family) as 4 | 6)}rule ${ruleKey(rule)}`),
    ...(entries?.routes ?? []).map((route) => `${familyFlag(Number(family) as 4 | 6)}route ${routeKey(route)}`),
  ]);
}

/**
 * The warp reconciler: keyed by target container id on the shared driver. Events only say which
 * targets to look at again; each reconcile inspects, plans and applies from scratch.
 */
export class WarpReconciler {
  readonly driver: ReconcileDriver;
  readonly #context: WarpContext;
  /** Target id -> the warp container name it names, as of its last reconcile. */
  readonly #targets = new Map<string, string>();
  /** Warp container id -> name, as of the last time a target's reconcile saw it. */
  readonly #warps = new Map<string, string>();
  /** The last plan error logged per target, so a bad label is reported once, not at every resync. */
  readonly #reported = new Map<string, string>();
  /** The last plan kind per target, to log transitions (routed, blocked, restored) once. */
  readonly #kinds = new Map<string, TargetPlan["kind"]>();
  /** The desired state last applied per target, to tell drift from a new plan. */
  readonly #applied = new Map<string, string>();

  constructor(context: WarpContext) {
    this.#context = context;
    this.driver = new ReconcileDriver({
      log: context.log,
      reconcile: (id) => this.reconcile(id),
      listKeys: () => this.#listAndPrune(),
      // Verifying is reconciling: each reconcile reads the real tables and repairs any difference.
      resyncIntervalMs: Math.min(context.config.resync_interval, context.config.verify_interval),
      isPermanent: (error) => error instanceof DockernetError && error.code === "PLAN_ERROR",
      observe: (outcome) => context.telemetry?.reconciled(outcome),
    });
  }

  /** Makes one target right; throws when it could not (the driver retries or reports). */
  async reconcile(id: string): Promise<void> {
    const planned = await planById(this.#context, id);
    if (planned === undefined) {
      for (const map of [this.#targets, this.#reported, this.#kinds, this.#applied]) map.delete(id);
      return;
    }
    const { plan, warp } = planned;
    if (warp) this.#warps.set(warp.id, warp.name);
    if (plan.warp) this.#targets.set(id, plan.warp);
    if (plan.kind === "error") {
      if (this.#reported.get(id) !== plan.error) this.#context.log.error("cannot route target", { container: plan.target.name, error: plan.error });
      this.#reported.set(id, plan.error);
      throw new DockernetError(plan.error, { code: "PLAN_ERROR" });
    }
    this.#reported.delete(id);
    const log = this.#context.log;
    if (this.#kinds.get(id) !== plan.kind) {
      const fields = { container: plan.target.name, warp: plan.warp };
      if (plan.kind === "block") log.warn("gateway down: kill switch engaged", { ...fields, reason: plan.reason });
      else if (plan.kind === "restore") log.warn("gateway down: Docker's route restored", { ...fields, reason: plan.reason });
      else log.info("routing through warp", { ...fields, network: plan.network, via: plan.via });
      this.#kinds.set(id, plan.kind);
    }
    const result = await applyPlan(plan, log).catch((error: unknown) => {
      if (error instanceof DockernetError && error.code === "ROUTE_FAILED") this.#context.telemetry?.actions("failed", 1);
      throw error;
    });
    this.#context.telemetry?.actions("applied", result.changed.length);
    // The same plan applied before, yet something had to change: someone edited the namespace.
    const fingerprint = JSON.stringify(plan.desired);
    if (this.#applied.get(id) === fingerprint && result.changed.length > 0) {
      const before = stateKeys(result.before);
      const after = stateKeys(result.state);
      log.warn("drift repaired", {
        container: plan.target.name,
        pid: plan.target.pid,
        before: before.filter((key) => !after.includes(key)),
        after: after.filter((key) => !before.includes(key)),
      });
    }
    this.#applied.set(id, fingerprint);
  }

  /** A full scan's keys; what is known of containers no longer running is forgotten. */
  async #listAndPrune(): Promise<string[]> {
    const ids = await listTargetIds(this.#context);
    const running = new Set(ids);
    for (const map of [this.#targets, this.#reported, this.#kinds, this.#applied]) {
      for (const id of map.keys()) if (!running.has(id)) map.delete(id);
    }
    const named = new Set(this.#targets.values());
    for (const [id, name] of this.#warps) if (!named.has(name)) this.#warps.delete(id);
    return ids;
  }

  /** The bus handler: maps events to the target ids to look at again. */
  readonly handler: EventHandler = {
    name: "warp",
    onEvent: (event) => this.#onEvent(event),
    onResync: () => this.driver.resync(),
  };

  async #onEvent(event: DockerEvent): Promise<void> {
    const { config } = this.#context;
    if (event.type === "container") {
      if (event.attributes[labelNames(config.label_prefix).target] !== undefined || this.#targets.has(event.id)) this.driver.enqueue(event.id, eventTimeMs(event));
      const names = [event.name, event.attributes.oldName?.replace(/^\//, "")].filter((name): name is string => !!name);
      // Its known targets are looked at again; only a start or rename may concern targets not seen yet.
      const list = event.action === "start" || event.action === "rename";
      for (const name of names) if (matchGlob(config.container_pattern, name)) await this.#enqueueTargetsOf(name, eventTimeMs(event), list);
      if (event.action === "destroy") this.#warps.delete(event.id);
      return;
    }
    if (event.type === "network") {
      const container = event.attributes.container;
      if (container === undefined) return;
      if (this.#targets.has(container)) this.driver.enqueue(container, eventTimeMs(event));
      const warp = this.#warps.get(container);
      if (warp !== undefined) await this.#enqueueTargetsOf(warp, eventTimeMs(event), false);
    }
  }

  async #enqueueTargetsOf(warpName: string, eventTime: number, list: boolean): Promise<void> {
    for (const [id, name] of this.#targets) if (name === warpName) this.driver.enqueue(id, eventTime);
    if (!list) return;
    const label = `${labelNames(this.#context.config.label_prefix).target}=${warpName}`;
    try {
      for (const container of await this.#context.client.listContainers({ label: [label] })) this.driver.enqueue(container.id, eventTime);
    } catch (error) {
      this.#context.log.warn("cannot list targets of a warp container", { warp: warpName, error: errorMessage(error) });
    }
  }
}
