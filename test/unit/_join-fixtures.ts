import { defaults } from "../../src/modes/config.ts";
import type { JoinContainer, JoinNetwork, JoinObserved, ProxyState } from "../../src/modes/join/plan.ts";
import type { JoinConfig } from "../../src/modes/join/routable.ts";

/** `defaults.join` with some keys replaced. */
export function joinConfig(overrides: Partial<JoinConfig> = {}): JoinConfig {
  return { ...defaults.join, ...overrides };
}

/** A network whose id is derived from its name (`web` -> `web-id`). */
export function network(name: string, driver = "bridge"): JoinNetwork {
  return { id: `${name}-id`, name, driver };
}

/** A running container on the named networks. */
export function app(name: string, networks: string[], options: { labels?: Record<string, string>; env?: string[] } = {}): JoinContainer {
  return { id: `${name}-id`, name, labels: options.labels ?? {}, ...(options.env ? { envNames: options.env } : {}), networkIds: networks.map((net) => `${net}-id`) };
}

/** The proxy, running on the named networks, created on the first. */
export function proxy(networks: string[], networkMode = networks[0] ?? "default"): ProxyState {
  return { state: "running", name: "http-proxy", id: "proxy-id", networkMode, networkIds: networks.map((net) => `${net}-id`) };
}

export const traefikLabels = { "traefik.http.routers.web.rule": "Host(`web.example`)" };

/** A scan: the default networks plus the named bridges. */
export function observed(proxyState: ProxyState, containers: JoinContainer[], extra: JoinNetwork[] = []): JoinObserved {
  return { proxy: proxyState, networks: [network("bridge"), network("host", "host"), network("none", "null"), ...extra], containers };
}
