import { routability, type JoinConfig } from "./routable.ts";

/** A network as the plan sees it. */
export interface JoinNetwork {
  id: string;
  name: string;
  driver: string;
}

/** A running container other than the proxy. */
export interface JoinContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** The routing env vars it sets (`routingEnvNames`); undefined when its labels decide. */
  envNames?: string[];
  /** Ids of the networks it is attached to. */
  networkIds: string[];
}

/** The proxy container, found by its exact name. */
export type ProxyState =
  | { state: "absent"; name: string }
  | { state: "stopped"; name: string; id: string }
  | { state: "running"; name: string; id: string; networkMode: string; networkIds: string[] };

/** Everything a plan is computed from: one scan of Docker. */
export interface JoinObserved {
  proxy: ProxyState;
  networks: JoinNetwork[];
  containers: JoinContainer[];
}

/** One network: who is routable on it, whether the proxy is there and should be. */
export interface NetworkDecision {
  network: JoinNetwork;
  /** Its driver is in `join.drivers` and it is not in `join.exclude_networks`. */
  counted: boolean;
  /** Names of the running routable containers on it. */
  routable: string[];
  joined: boolean;
  /** Whether the proxy should be attached once the plan is applied. */
  wanted: boolean;
  why: string;
}

/** One change to the proxy's networks. */
export interface JoinAction {
  op: "connect" | "disconnect";
  network: JoinNetwork;
  why: string;
}

/** The desired networks of the proxy and the changes that get there. */
export interface JoinPlan {
  proxy: ProxyState;
  /** Why nothing can change (proxy absent, stopped, or without networks of its own). */
  blocked?: string;
  /** By network name. */
  networks: NetworkDecision[];
  /** Disconnects first, so a `network rm` waiting on them is not held up by joins. */
  actions: JoinAction[];
}

function blockedBy(proxy: ProxyState): string | undefined {
  if (proxy.state === "absent") return `proxy container ${proxy.name} does not exist`;
  if (proxy.state === "stopped") return `proxy container ${proxy.name} is not running`;
  if (/^(host|none)$|^container:/.test(proxy.networkMode)) {
    return `proxy container ${proxy.name} uses network mode ${proxy.networkMode}: it has no networks of its own to join`;
  }
  return undefined;
}

/** The network the proxy was created on (`default` means the default bridge), by name or id. */
function primaryNetworkId(networkMode: string, networks: JoinNetwork[]): string | undefined {
  const mode = networkMode === "default" ? "bridge" : networkMode;
  return networks.find((network) => network.name === mode || network.id === mode || (mode.length >= 12 && network.id.startsWith(mode)))?.id;
}

function uncounted(network: JoinNetwork, config: JoinConfig): string | undefined {
  if (!config.drivers.includes(network.driver)) return `driver ${network.driver} is not in join.drivers`;
  if (config.exclude_networks.includes(network.name)) return "listed in join.exclude_networks";
  return undefined;
}

/**
 * The plan: the proxy on every counted network that holds a running routable container, on no
 * other counted network, except the default `bridge` and its own primary network, which it never
 * leaves. Networks that do not count are never touched. Pure: the same scan gives the same plan.
 */
export function planJoin(observed: JoinObserved, config: JoinConfig): JoinPlan {
  const { proxy } = observed;
  const blocked = blockedBy(proxy);
  const running = proxy.state === "running" ? proxy : undefined;
  const joinedIds = new Set(running?.networkIds ?? []);
  const primary = running && primaryNetworkId(running.networkMode, observed.networks);
  const routableOn = new Map<string, string[]>();
  for (const container of observed.containers) {
    if (proxy.state !== "absent" && container.id === proxy.id) continue;
    if (!routability(container.labels, container.envNames, config).routable) continue;
    for (const id of container.networkIds) routableOn.set(id, [...(routableOn.get(id) ?? []), container.name]);
  }
  const networks = observed.networks
    .map((network): NetworkDecision => {
      const routable = (routableOn.get(network.id) ?? []).sort();
      const joined = joinedIds.has(network.id);
      const notCounted = uncounted(network, config);
      if (notCounted !== undefined) return { network, counted: false, routable, joined, wanted: joined, why: notCounted };
      if (routable.length > 0) return { network, counted: true, routable, joined, wanted: true, why: `routable: ${routable.join(", ")}` };
      const kept = network.name === "bridge" ? "the default bridge network: never left" : network.id === primary ? "the proxy's own network: never left" : undefined;
      if (joined && kept !== undefined) return { network, counted: true, routable, joined, wanted: true, why: kept };
      return { network, counted: true, routable, joined, wanted: false, why: "no running routable container" };
    })
    .sort((a, b) => a.network.name.localeCompare(b.network.name));
  const change = (op: JoinAction["op"]) => (decision: NetworkDecision): JoinAction => ({ op, network: decision.network, why: decision.why });
  const actions = blocked !== undefined ? [] : [
    ...networks.filter((decision) => decision.joined && !decision.wanted).map(change("disconnect")),
    ...networks.filter((decision) => !decision.joined && decision.wanted).map(change("connect")),
  ];
  return { proxy, ...(blocked !== undefined ? { blocked } : {}), networks, actions };
}
