import type { TargetPlan } from "./plan.ts";

/** What the daemon remembers of one target between its reconciles. */
export interface TargetRecord {
  /** The warp container name it names, as of its last reconcile. */
  warp?: string;
  /** The last plan error logged, so a bad label is reported once, not at every resync. */
  reported?: string;
  /** The last plan kind, to log transitions (routed, blocked, restored) once. */
  kind?: TargetPlan["kind"];
  /** The desired state last applied, to tell drift from a new plan. */
  applied?: string;
}

/**
 * The warp daemon's memory of targets and of the warp containers they name, owned here and
 * pruned in one place (`keepOnly`), so nothing outlives the containers it is about.
 */
export class TargetBook {
  readonly #targets = new Map<string, TargetRecord>();
  /** Warp container id -> name, as of the last time a target's reconcile saw it. */
  readonly #warps = new Map<string, string>();

  /** The record of a target, made empty on first use. */
  record(id: string): TargetRecord {
    let record = this.#targets.get(id);
    if (record === undefined) {
      record = {};
      this.#targets.set(id, record);
    }
    return record;
  }

  isTarget(id: string): boolean {
    return this.#targets.has(id);
  }

  /** The target is gone or no longer a target. */
  forget(id: string): void {
    this.#targets.delete(id);
  }

  noteWarp(id: string, name: string): void {
    this.#warps.set(id, name);
  }

  /** The name of a warp container some target named, by its id. */
  warpName(id: string): string | undefined {
    return this.#warps.get(id);
  }

  forgetWarp(id: string): void {
    this.#warps.delete(id);
  }

  /** The targets that name `warpName`. */
  targetsOf(warpName: string): string[] {
    return [...this.#targets].filter(([, record]) => record.warp === warpName).map(([id]) => id);
  }

  /** After a full scan: forget every target not in `running`, and every warp container no target names. */
  keepOnly(running: ReadonlySet<string>): void {
    for (const id of this.#targets.keys()) if (!running.has(id)) this.#targets.delete(id);
    const named = new Set([...this.#targets.values()].map((record) => record.warp));
    for (const [id, name] of this.#warps) if (!named.has(name)) this.#warps.delete(id);
  }
}
