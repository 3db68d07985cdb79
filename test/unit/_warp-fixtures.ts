import { parseRouteRule } from "../../src/config/route-rule.ts";
import { defaults } from "../../src/config/schema.ts";
import type { ContainerNetwork, ObservedContainer } from "../../src/docker/types.ts";
import type { TargetPlan, WarpConfig } from "../../src/modes/warp/plan.ts";

/** A network attachment; without an address the container is attached but has no IPv4 there. */
export function net(name: string, ipv4?: string): ContainerNetwork {
  const attachment: ContainerNetwork = { name, networkId: `${name}-network-id` };
  if (ipv4 !== undefined) Object.assign(attachment, { ipv4, prefixLength: 16, gateway: ipv4.replace(/\.\d+$/, ".1") });
  return attachment;
}

/** An inspected container as the Docker client hands it to the planner. */
export function container(
  name: string,
  options: { labels?: Record<string, string>; networks?: ContainerNetwork[]; running?: boolean; networkMode?: string; pid?: number } = {},
): ObservedContainer {
  const running = options.running ?? true;
  const networks = options.networks ?? [];
  return {
    id: `${name}-0123456789abcdef`.padEnd(64, "0"),
    name,
    running,
    pid: running ? (options.pid ?? 4242) : 0,
    labels: options.labels ?? {},
    env: ["PATH=/usr/bin:/bin"],
    networks,
    networkMode: options.networkMode ?? networks[0]?.name ?? "bridge",
  };
}

/** `defaults.warp` with some keys replaced; `routes` given as rule texts. */
export function warpConfig(overrides: Partial<Omit<WarpConfig, "routes">> & { routes?: string[] } = {}): WarpConfig {
  const { routes, ...rest } = overrides;
  return { ...defaults.warp, ...rest, ...(routes ? { routes: routes.map(parseRouteRule) } : {}) };
}

/** A `route` plan for `app` through `warp-1` on `edge`, as the planner would make it. */
export function routePlan(rules: string[] = ["0.0.0.0/0"], via = "172.20.0.3"): Extract<TargetPlan, { kind: "route" }> {
  return {
    kind: "route",
    target: { id: "app-id", name: "app", pid: 4242 },
    warp: "warp-1",
    network: "edge",
    via,
    rules: rules.map(parseRouteRule),
  };
}
