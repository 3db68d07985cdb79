import type { JoinPlan } from "./plan.ts";

/** One row of `join status`: a network, who is routable on it, and whether the proxy is there as planned. */
export interface NetworkStatus {
  network: string;
  id: string;
  driver: string;
  /** Running routable containers on it. */
  routable: string[];
  /** The proxy is attached now. */
  joined: boolean;
  /** ok: as planned; missing: should be joined; extra: should be left; ignored: not counted (never touched). */
  state: "ok" | "missing" | "extra" | "ignored";
  why: string;
}

/** The rows of a plan, by network name. While the proxy is unavailable, the reason is in each row that needs it. */
export function statusRows(plan: JoinPlan): NetworkStatus[] {
  return plan.networks.map((decision) => {
    const state = !decision.counted ? "ignored" : decision.wanted === decision.joined ? "ok" : decision.wanted ? "missing" : "extra";
    const why = state === "missing" && plan.blocked !== undefined ? `${decision.why}; ${plan.blocked}` : decision.why;
    return {
      network: decision.network.name,
      id: decision.network.id.slice(0, 12),
      driver: decision.network.driver,
      routable: decision.routable,
      joined: decision.joined,
      state,
      why,
    };
  });
}
