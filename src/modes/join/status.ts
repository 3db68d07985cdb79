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

/** The proxy in `join status --json`: its state, and while nothing can change, why and what to do. */
export interface ProxyStatus {
  name: string;
  state: "absent" | "stopped" | "running";
  id?: string;
  /** Why nothing can change (absent, stopped, no networks of its own). */
  problem?: string;
  hint?: string;
}

/** What the user can do about a proxy that blocks the plan. */
export function proxyHint(plan: JoinPlan): string | undefined {
  const { proxy } = plan;
  if (proxy.state === "absent") return `no container is named ${proxy.name}: name the proxy with --container-name NAME (join.container_name), or create it`;
  if (proxy.state === "stopped") return `start it (docker start ${proxy.name})`;
  return plan.blocked === undefined ? undefined : "run the proxy on a bridge network of its own";
}

/** The proxy's part of `join status`. */
export function proxyStatus(plan: JoinPlan): ProxyStatus {
  const { proxy } = plan;
  const hint = proxyHint(plan);
  return {
    name: proxy.name,
    state: proxy.state,
    ...(proxy.state === "absent" ? {} : { id: proxy.id.slice(0, 12) }),
    ...(plan.blocked === undefined ? {} : { problem: plan.blocked }),
    ...(hint === undefined ? {} : { hint }),
  };
}
