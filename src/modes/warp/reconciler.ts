import { DockernetError, errorMessage } from "../../core/errors.ts";
import { ReconcileDriver } from "../../core/reconcile-driver.ts";
import type { EventHandler } from "../../docker/event-bus.ts";
import { eventTimeMs } from "../../docker/events.ts";
import type { DockerEvent } from "../../docker/types.ts";
import { matchGlob } from "./_glob.ts";
import { TargetBook } from "./_targets.ts";
import { applyPlan } from "./apply.ts";
import type { NetnsState } from "./diff.ts";
import { familyFlag, routeKey, ruleKey } from "./netns-spec.ts";
import { labelNames } from "./labels.ts";
import { inspectWarpNamed, listTargetIds, planById, type WarpContext } from "./observe.ts";
import { WarpLookup } from "./_warp-lookup.ts";

/** Container actions after which the container runs. */
const runningAfter = new Set(["start", "restart", "unpause"]);

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
  readonly #book = new TargetBook();
  /** The warp containers' inspects, shared by the targets of a burst (see WarpLookup). */
  readonly #warps: WarpLookup;
  /**
   * Target id -> the warp container its label names, as its last event said, until its reconcile
   * after that event ends: while the target's first reconcile plans it is not in the book yet, and
   * an event about its warp container then must still queue it again.
   */
  readonly #eventWarpNames = new Map<string, string>();

  constructor(context: WarpContext) {
    this.#context = context;
    this.#warps = new WarpLookup((name) => inspectWarpNamed(context, name));
    this.driver = new ReconcileDriver({
      log: context.log,
      reconcile: (id) => this.reconcile(id),
      listKeys: () => this.#listAndPrune(),
      // Verifying is reconciling: each reconcile reads the real tables and repairs any difference.
      // No call inside a reconcile is retried by itself, so a failing target is inspected at most
      // `attempts` (4) times per event or resync: retries do not stack.
      resyncIntervalMs: Math.min(context.config.resync_interval, context.config.verify_interval),
      isPermanent: (error) => error instanceof DockernetError && error.code === "PLAN_ERROR",
      observe: (outcome) => context.telemetry?.reconciled(outcome),
    });
  }

  /** Makes one target right; throws when it could not (the driver retries or reports). */
  async reconcile(id: string): Promise<void> {
    const warpName = this.#eventWarpNames.get(id) ?? (this.#book.isTarget(id) ? this.#book.record(id).warp : undefined);
    try {
      await this.#reconcile(id, warpName);
    } finally {
      // A later event set it again while this ran: the driver runs the target once more, with it.
      if (this.#eventWarpNames.get(id) === warpName) this.#eventWarpNames.delete(id);
    }
  }

  async #reconcile(id: string, warpName: string | undefined): Promise<void> {
    const planned = await planById(this.#context, id, { warpName, lookupWarp: (name) => this.#warps.get(name) });
    if (planned === undefined) return this.#book.forget(id);
    const { plan, warp } = planned;
    const record = this.#book.record(id);
    if (warp) this.#book.noteWarp(warp.id, warp.name);
    if (plan.warp) record.warp = plan.warp;
    if (plan.kind === "error") {
      if (record.reported !== plan.error) this.#context.log.error("cannot route target", { container: plan.target.name, error: plan.error });
      record.reported = plan.error;
      throw new DockernetError(plan.error, { code: "PLAN_ERROR" });
    }
    record.reported = undefined;
    const log = this.#context.log;
    if (record.kind !== plan.kind) {
      const fields = { container: plan.target.name, warp: plan.warp };
      if (plan.kind === "block") log.warn("gateway down: kill switch engaged", { ...fields, reason: plan.reason });
      else if (plan.kind === "restore") log.warn("gateway down: Docker's route restored", { ...fields, reason: plan.reason });
      else log.info("routing through warp", { ...fields, network: plan.network, via: plan.via });
      record.kind = plan.kind;
    }
    const result = await applyPlan(plan, log).catch((error: unknown) => {
      if (error instanceof DockernetError && error.code === "ROUTE_FAILED") this.#context.telemetry?.actions("failed", 1);
      throw error;
    });
    this.#context.telemetry?.actions("applied", result.changed.length);
    // The same plan applied before, yet something had to change: someone edited the namespace.
    const fingerprint = JSON.stringify(plan.desired);
    if (record.applied === fingerprint && result.changed.length > 0) {
      const before = stateKeys(result.before);
      const after = stateKeys(result.state);
      log.warn("drift repaired", {
        container: plan.target.name,
        pid: plan.target.pid,
        before: before.filter((key) => !after.includes(key)),
        after: after.filter((key) => !before.includes(key)),
      });
    }
    record.applied = fingerprint;
  }

  /** A full scan's keys; what is known of containers no longer running is forgotten. */
  async #listAndPrune(): Promise<string[]> {
    // A resync (periodic, or the events stream reopened) looks at every warp container afresh.
    this.#warps.clear();
    const ids = await listTargetIds(this.#context);
    this.#book.keepOnly(new Set(ids));
    return ids;
  }

  /** The bus handler: maps events to the target ids to look at again. */
  readonly handler: EventHandler = {
    name: "warp",
    // Warp containers are found by name, not label, so every container's lifecycle matters;
    // network (dis)connects move targets and gateways between networks.
    interest: {
      types: ["container", "network"],
      actions: ["create", "start", "restart", "die", "stop", "kill", "destroy", "rename", "pause", "unpause", "connect", "disconnect"],
    },
    onEvent: (event) => this.#onEvent(event),
    onResync: () => this.driver.resync(),
  };

  async #onEvent(event: DockerEvent): Promise<void> {
    const { config } = this.#context;
    if (event.type === "container") {
      const names = [event.name, event.attributes.oldName?.replace(/^\//, "")].filter((name): name is string => !!name);
      // Before any target is queued: their reconciles inspect this container afresh.
      this.#warps.forget(event.id, names);
      const warpName = event.attributes[labelNames(config.label_prefix).target];
      // After these the target runs: its reconcile inspects its warp container beside it.
      if (warpName !== undefined && runningAfter.has(event.action)) this.#eventWarpNames.set(event.id, warpName);
      // Not on create: a container just created runs nothing yet, and its start event routes it. An
      // inspect per create would load dockerd while `compose up` creates, and count toward the
      // collection after a burst (reconcile-driver), which could then fall on the starts that came next.
      if ((warpName !== undefined || this.#book.isTarget(event.id)) && event.action !== "create") this.driver.enqueue(event.id, eventTimeMs(event));
      // Its known targets are looked at again; only a start or rename may concern targets not seen yet.
      const list = event.action === "start" || event.action === "rename";
      for (const name of names) if (matchGlob(config.container_pattern, name)) await this.#enqueueTargetsOf(name, eventTimeMs(event), list);
      if (event.action === "destroy") this.#book.forgetWarp(event.id);
      return;
    }
    if (event.type === "network") {
      const container = event.attributes.container;
      if (container === undefined) return;
      this.#warps.forget(container, []);
      if (this.#book.isTarget(container)) this.driver.enqueue(container, eventTimeMs(event));
      const warp = this.#book.warpName(container);
      if (warp !== undefined) await this.#enqueueTargetsOf(warp, eventTimeMs(event), false);
    }
  }

  async #enqueueTargetsOf(warpName: string, eventTime: number, list: boolean): Promise<void> {
    for (const id of this.#book.targetsOf(warpName)) this.driver.enqueue(id, eventTime);
    // Targets whose first reconcile is still planning: not in the book yet, but their start event named it.
    for (const [id, name] of this.#eventWarpNames) if (name === warpName) this.driver.enqueue(id, eventTime);
    if (!list) return;
    const label = `${labelNames(this.#context.config.label_prefix).target}=${warpName}`;
    try {
      for (const container of await this.#context.client.listContainers({ label: [label] })) this.driver.enqueue(container.id, eventTime);
    } catch (error) {
      this.#context.log.warn("cannot list targets of a warp container", { warp: warpName, error: errorMessage(error) });
    }
  }
}
