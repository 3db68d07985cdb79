import { Metrics } from "./metrics.ts";
import type { ReconcileOutcome } from "./reconcile-driver.ts";

/** What a running mode reports for /metrics and /healthz. */
export interface ModeTelemetry {
  /** Give to the mode's ReconcileDriver as its `observe` option. */
  reconciled(outcome: ReconcileOutcome): void;
  /** Changes made (`applied`) or attempted and refused (`failed`). */
  actions(result: "applied" | "failed", count: number): void;
}

const names = {
  events: ["dockernet_events_total", "Docker events received, by type."],
  reconnects: ["dockernet_events_stream_reconnects_total", "Times the Docker events stream was lost and reopened."],
  reconciles: ["dockernet_reconciles_total", "Reconciles run, by mode and result (ok, failed, invalid: a permanent error such as a bad label)."],
  duration: ["dockernet_reconcile_duration_seconds", "How long one reconcile took, by mode."],
  actions: ["dockernet_actions_total", "Changes applied or failed, by mode."],
  latency: ["dockernet_event_to_apply_seconds", "From a Docker event to the end of the reconcile it asked for, by mode."],
} as const;

/**
 * The metrics of one process: events, reconnects, and per mode its reconciles and changes.
 * Health is not judged here: each mode and each events stream reports its own (modes/daemon.ts).
 */
export class Telemetry {
  readonly metrics = new Metrics();

  constructor() {
    this.metrics.declareCounter(...names.events, { type: "container" });
    this.metrics.declareCounter(...names.events, { type: "network" });
    this.metrics.declareCounter(...names.reconnects);
  }

  event(type: string): void {
    this.metrics.inc(...names.events, { type });
  }

  reconnect(): void {
    this.metrics.inc(...names.reconnects);
  }

  /** The reporter of one mode; declares its series so they are exported before the first event. */
  mode(mode: string): ModeTelemetry {
    for (const result of ["ok", "failed", "invalid"]) this.metrics.declareCounter(...names.reconciles, { mode, result });
    for (const result of ["applied", "failed"]) this.metrics.declareCounter(...names.actions, { mode, result });
    return {
      reconciled: (outcome) => {
        const result = outcome.ok ? "ok" : outcome.permanent ? "invalid" : "failed";
        this.metrics.inc(...names.reconciles, { mode, result });
        this.metrics.observe(...names.duration, outcome.durationMs / 1000, { mode });
        if (outcome.sinceEventMs !== undefined) this.metrics.observe(...names.latency, outcome.sinceEventMs / 1000, { mode });
      },
      actions: (result, count) => {
        if (count > 0) this.metrics.inc(...names.actions, { mode, result }, count);
      },
    };
  }
}
