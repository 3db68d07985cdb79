import type { Logger } from "../../core/logger.ts";
import type { EventHandler } from "../../docker/event-bus.ts";
import { eventTimeMs } from "../../docker/events.ts";
import type { DockerEvent } from "../../docker/types.ts";
import type { PendingChanges } from "./_pending.ts";
import type { EnvCache, ScanHints } from "./observe.ts";
import type { JoinConfig } from "./routable.ts";

/** What the event handler reads and notes for the next scan. */
export interface JoinState {
  driver: { enqueue(key: string, eventTimeMs?: number): void; resync(): Promise<void> };
  envCache: EnvCache;
  pending: PendingChanges;
  hints: ScanHints;
  /** As of the last scan: the proxy's id, the running routable containers and the running others. */
  proxyId: string | undefined;
  routable: ReadonlySet<string>;
  bystanders: ReadonlySet<string>;
}

/**
 * Maps events to "scan again" (the one key `proxy`) and notes what Docker's container list does
 * not show yet (see ScanHints). Skipped: containers the last scan found not routable (labels and
 * env never change during a container's life); the proxy's changes that dockernet made itself;
 * and the network events of a container being started or stopped, whose start or die event
 * already says all. The proxy's own start re-joins everything.
 */
export function joinEventHandler(state: JoinState, context: { config: JoinConfig; log: Logger }): EventHandler {
  const { hints } = state;
  // Starts alone are looked at by listing just those containers; anything else needs a full scan.
  // The event's time goes along, for the event-to-apply latency metric.
  const again = (event: DockerEvent) => state.driver.enqueue("proxy", eventTimeMs(event));
  const scan = (event: DockerEvent) => {
    hints.full = true;
    again(event);
  };

  const onContainer = (event: DockerEvent): void => {
    if (event.action === "start") {
      hints.stopped.delete(event.id);
      if (!state.bystanders.has(event.id)) hints.started.add(event.id);
    } else if (event.action === "die") {
      hints.stopped.add(event.id);
      hints.started.delete(event.id);
    } else if (event.action === "destroy") {
      for (const set of [hints.stopped, hints.started, hints.refresh]) set.delete(event.id);
      state.envCache.forget(event.id);
    }
    const names = [event.name, event.attributes.oldName?.replace(/^\//, "")];
    if (names.includes(context.config.container_name)) {
      if (event.action === "start") context.log.info("proxy container started, joining its networks", { proxy: context.config.container_name });
      return scan(event);
    }
    if (state.bystanders.has(event.id)) return;
    if (event.action === "start") again(event);
    else if (event.action === "die") scan(event);
  };

  const onNetwork = (event: DockerEvent): void => {
    if (event.action === "destroy") return scan(event);
    const container = event.attributes.container;
    if ((event.action !== "connect" && event.action !== "disconnect") || container === undefined) return;
    if (container === state.proxyId) {
      if (state.pending.take(event.action, event.id)) return context.log.trace("own network change", { action: event.action, network: event.name });
    } else if (state.bystanders.has(container) || hints.stopped.has(container) || !(state.routable.has(container) || hints.started.has(container))) {
      return;
    }
    // Connected or disconnected while running: the list shows that only once Docker has saved it.
    hints.refresh.add(container);
    scan(event);
  };

  return {
    name: "join",
    onEvent: (event) => (event.type === "container" ? onContainer(event) : event.type === "network" ? onNetwork(event) : undefined),
    onResync: () => state.driver.resync(),
  };
}
