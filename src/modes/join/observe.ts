import type { Logger } from "../../core/logger.ts";
import type { ContainerSummary } from "../../docker/types.ts";
import { mapLimit } from "../../core/map-limit.ts";
import type { JoinDocker } from "./_docker.ts";
import type { JoinContainer, JoinObserved, ProxyState } from "./plan.ts";
import { routableByLabels, routingEnvNames, type JoinConfig } from "./routable.ts";

/**
 * The routing env vars of each container, by id. The container list does not carry the
 * environment, and a container's environment never changes during its life, so each container
 * is inspected once, not at every scan.
 */
export class EnvCache {
  readonly #names = new Map<string, string[]>();

  get(id: string): string[] | undefined {
    return this.#names.get(id);
  }

  set(id: string, names: string[]): void {
    this.#names.set(id, names);
  }

  forget(id: string): void {
    this.#names.delete(id);
  }

  /** Drops the containers a scan no longer lists, so the cache stays as small as the running set. */
  keepOnly(ids: ReadonlySet<string>): void {
    for (const id of this.#names.keys()) if (!ids.has(id)) this.#names.delete(id);
  }
}

/**
 * What events said since the last scan that Docker's container list may not show yet: the list
 * is updated when Docker saves a container, tens of ms after the events of its death and of a
 * network connect or disconnect. The event handler fills these sets; scans use and prune them.
 */
export interface ScanHints {
  /** Died: left out while the list still shows them running; dropped once it does not. */
  stopped: Set<string>;
  /** Started since the last scan (so their network events count); dropped once a scan lists them. */
  started: Set<string>;
  /** Networks changed while running: inspected rather than read from the list, by the next scan. */
  refresh: Set<string>;
  /** Something happened that only a full scan sees (a death, a network change, the proxy, a resync). */
  full: boolean;
}

/** Hints with nothing noted yet. */
export function emptyHints(): ScanHints {
  return { stopped: new Set(), started: new Set(), refresh: new Set(), full: true };
}

/** What a scan works with. */
export interface ObserveContext {
  client: JoinDocker;
  config: JoinConfig;
  log: Logger;
  envCache: EnvCache;
  hints?: ScanHints;
}

// Inspections at once: enough to overlap round trips, few enough not to crowd the engine.
const inspectConcurrency = 16;

/** One scan: the proxy, every network and every running container, with env read where labels do not decide. */
export async function observe(context: ObserveContext): Promise<JoinObserved> {
  const { client, config } = context;
  const hints = context.hints ?? emptyHints();
  // A change noted while this scan runs is for the next one (the driver runs it again).
  const refresh = new Set(hints.refresh);
  hints.refresh.clear();
  try {
    // No retry here: the reconcile driver retries a failed scan as a whole (see JoinReconciler).
    const [listed, networks] = await Promise.all([client.listContainers(), client.listNetworks()]);
    for (const id of hints.stopped) if (!listed.some((container) => container.id === id)) hints.stopped.delete(id);
    const notDead = listed.filter((container) => !hints.stopped.has(container.id));
    const read = await mapLimit(notDead, inspectConcurrency, async (container) => (refresh.has(container.id) ? await freshen(context, container) : container));
    const alive = read.filter((container): container is ContainerSummary => container !== undefined);
    for (const container of alive) hints.started.delete(container.id);
    const proxySummary = alive.find((container) => container.name === config.container_name);
    const others = alive.filter((container) => container !== proxySummary);
    const [proxy, containers] = await Promise.all([proxyState(context, proxySummary), withEnv(context, others)]);
    context.envCache.keepOnly(new Set(others.map((container) => container.id)));
    return { proxy, networks: networks.map(({ id, name, driver }) => ({ id, name, driver })), containers };
  } catch (error) {
    for (const id of refresh) hints.refresh.add(id);
    throw error;
  }
}

/**
 * A scan of only the containers that started since the last one (and of the networks, which a
 * new project may have just created): in a burst of starts, small list calls per batch instead of
 * listing everything each time. `last` is the last full scan as it stands after the changes made
 * from it; anything else that happened since asks for a full scan.
 */
export async function observeStarted(context: ObserveContext, last: JoinObserved, hints: ScanHints): Promise<JoinObserved> {
  const ids = [...hints.started];
  const [listed, networks] = await Promise.all([context.client.listContainers({ id: ids }), context.client.listNetworks()]);
  for (const id of ids) hints.started.delete(id);
  const fresh = listed.filter((container) => container.name !== context.config.container_name && !hints.stopped.has(container.id));
  const added = await withEnv(context, fresh);
  const seen = new Set(added.map((container) => container.id));
  const containers = [...last.containers.filter((container) => !seen.has(container.id)), ...added];
  return { ...last, networks: networks.map(({ id, name, driver }) => ({ id, name, driver })), containers };
}

/** The list entry with its networks read by inspect, which waits for Docker to finish a change; undefined if no longer running. */
async function freshen(context: ObserveContext, container: ContainerSummary): Promise<ContainerSummary | undefined> {
  const inspected = await context.client.inspectContainer(container.id);
  if (!inspected?.running) return undefined;
  if (routableByLabels(container.labels, context.config) === undefined) context.envCache.set(container.id, routingEnvNames(inspected.env, context.config));
  return { ...container, networks: inspected.networks.filter((network) => network.networkId !== "") };
}

async function proxyState(context: ObserveContext, listed: ContainerSummary | undefined): Promise<ProxyState> {
  const name = context.config.container_name;
  if (listed !== undefined) {
    return { state: "running", name, id: listed.id, networkMode: listed.networkMode, networkIds: listed.networks.map((network) => network.networkId) };
  }
  // Only when it is not running: is it stopped, or absent? Docker also resolves id prefixes, hence the name check.
  const found = await context.client.inspectContainer(name);
  return found?.name === name ? { state: "stopped", name, id: found.id } : { state: "absent", name };
}

async function withEnv(context: ObserveContext, listed: ContainerSummary[]): Promise<JoinContainer[]> {
  const { client, config, envCache } = context;
  const read = await mapLimit(listed, inspectConcurrency, async (container): Promise<JoinContainer | undefined> => {
    const base = { id: container.id, name: container.name, labels: container.labels, networkIds: container.networks.map((network) => network.networkId) };
    if (routableByLabels(container.labels, config) !== undefined) return base;
    let envNames = envCache.get(container.id);
    if (envNames === undefined) {
      const inspected = await client.inspectContainer(container.id);
      if (inspected === undefined) return undefined; // removed since the list: its events will follow
      envNames = routingEnvNames(inspected.env, config);
      envCache.set(container.id, envNames);
    }
    return { ...base, envNames };
  });
  return read.filter((container): container is JoinContainer => container !== undefined);
}
