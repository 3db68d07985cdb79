import { parseRouteRule } from "../../src/config/route-rule.ts";
import { defaults } from "../../src/modes/config.ts";
import type { ContainerNetwork, ObservedContainer, PublishedPort } from "../../src/docker/types.ts";
import { desiredNetns, type DesiredInput, type NetnsDesired } from "../../src/modes/warp/desired.ts";
import type { NetnsState } from "../../src/modes/warp/diff.ts";
import type { TargetPlan, WarpConfig } from "../../src/modes/warp/plan.ts";

/** A network attachment; without an address the container is attached but has no IPv4 there. */
export function net(name: string, ipv4?: string, ipv6?: string): ContainerNetwork {
  const attachment: ContainerNetwork = { name, networkId: `${name}-network-id` };
  if (ipv4 !== undefined) Object.assign(attachment, { ipv4, prefixLength: 16, gateway: ipv4.replace(/\.\d+$/, ".1") });
  if (ipv6 !== undefined) Object.assign(attachment, { ipv6, gateway6: ipv6.replace(/:[0-9a-f]+$/, ":1") });
  return attachment;
}

/** An inspected container as the Docker client hands it to the planner. */
export function container(
  name: string,
  options: {
    labels?: Record<string, string>;
    networks?: ContainerNetwork[];
    running?: boolean;
    networkMode?: string;
    pid?: number;
    published?: PublishedPort[];
  } = {},
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
    published: options.published ?? [],
  };
}

/** `defaults.warp` with some keys replaced; `routes` given as rule texts. */
export function warpConfig(overrides: Partial<Omit<WarpConfig, "routes">> & { routes?: string[] } = {}): WarpConfig {
  const { routes, ...rest } = overrides;
  return { ...defaults.warp, ...rest, ...(routes ? { routes: routes.map(parseRouteRule) } : {}) };
}

/** desiredNetns with rule texts and defaults: routed via 172.20.0.3, IPv4 only, nothing published. */
export function desired(rules: string[] = ["0.0.0.0/0"], input: Partial<Omit<DesiredInput, "rules">> = {}) {
  return desiredNetns({ via: "172.20.0.3", block: false, ipv6: false, published: [], ...input, rules: rules.map(parseRouteRule) });
}

/** A namespace holding exactly what `want` describes, per family. */
export function stateOf(want: NetnsDesired): NetnsState {
  const state: NetnsState = {};
  for (const family of want.families) {
    state[family] = { rules: want.rules.filter((rule) => rule.family === family), routes: want.routes.filter((route) => route.family === family) };
  }
  return state;
}

const app = { id: "app-id", name: "app", pid: 4242 };

/** A `route` plan for `app` through `warp-1` on `edge`, as the planner would make it. */
export function routePlan(rules: string[] = ["0.0.0.0/0"], via = "172.20.0.3"): Extract<TargetPlan, { kind: "route" }> {
  return { kind: "route", target: app, warp: "warp-1", network: "edge", via, onDown: "block", desired: desired(rules, { via }) };
}

/** The kill switch engaged for `app`: the rules' destinations unreachable. */
export function blockPlan(rules: string[] = ["0.0.0.0/0"]): Extract<TargetPlan, { kind: "block" }> {
  return { kind: "block", target: app, warp: "warp-1", reason: "warp container warp-1 is not running", desired: desired(rules, { via: undefined, block: true }) };
}

/** Docker's route while warp-1 is down: nothing of dockernet's wanted. */
export function restorePlan(): Extract<TargetPlan, { kind: "restore" }> {
  return { kind: "restore", target: app, warp: "warp-1", reason: "warp container warp-1 is not running", desired: { routes: [], rules: [], families: [4] } };
}
