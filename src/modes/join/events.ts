import type { Logger } from "../../core/logger.ts";
import type { EventHandler } from "../../docker/event-bus.ts";
import { eventTimeMs } from "../../docker/events.ts";
import type { DockerEvent } from "../../docker/types.ts";
import type { JoinMemory } from "./_memory.ts";
import type { JoinConfig } from "./routable.ts";

/** The part of the driver the handler uses: ask for a scan, or a full resync. */
export interface ScanRequests {
  enqueue(key: string, eventTimeMs?: number): void;
  resync(): Promise<void>;
}

/**
 * Maps events to "scan again" (the one key `proxy`) and notes what Docker's container list does
 * not show yet (see ScanHints). Skipped: containers the last scan found not routable (labels and
 * env never change during a container's life); the proxy's changes that dockernet made itself;
 * and the network events of a container being started or stopped, whose start or die event
 * already says all. The proxy's own start re-joins everything.
 */
export function joinEventHandler(memory: JoinMemory, driver: ScanRequests, context: { config: JoinConfig; log: Logger }): EventHandler {
  // Starts alone are looked at by listing just those containers; anything else needs a full scan.
  // The event's time goes along, for the event-to-apply latency metric.
  const again = (event: DockerEvent) => driver.enqueue("proxy", eventTimeMs(event));
  const scan = (event: DockerEvent) => {
    memory.needFullScan();
    again(event);
  };

  const onContainer = (event: DockerEvent): void => {
    if (event.action === "start") {
      memory.started(event.id);
    } else if (event.action === "die") {
      memory.died(event.id);
    } else if (event.action === "destroy") {
      memory.forget(event.id);
    }
    const names = [event.name, event.attributes.oldName?.replace(/^\//, "")];
    if (names.includes(context.config.container_name)) {
      if (event.action === "start") context.log.info("proxy container started, joining its networks", { proxy: context.config.container_name });
      return scan(event);
    }
    if (memory.isBystander(event.id)) return;
    if (event.action === "start") again(event);
    else if (event.action === "die") scan(event);
  };

  const onNetwork = (event: DockerEvent): void => {
    if (event.action === "destroy") return scan(event);
    const container = event.attributes.container;
    if ((event.action !== "connect" && event.action !== "disconnect") || container === undefined) return;
    if (container === memory.proxyId) {
      if (memory.pending.take(event.action, event.id)) return context.log.trace("own network change", { action: event.action, network: event.name });
    } else if (!memory.mayMatter(container)) {
      return;
    }
    // Connected or disconnected while running: the list shows that only once Docker has saved it.
    memory.networksChanged(container);
    scan(event);
  };

  return {
    name: "join",
    // Every lifecycle action (the bus's default list): any event of the proxy container (created,
    // stopped, renamed...) is a reason to look again, as are network (dis)connects and removals.
    interest: { types: ["container", "network"] },
    onEvent: (event) => (event.type === "container" ? onContainer(event) : event.type === "network" ? onNetwork(event) : undefined),
    onResync: () => driver.resync(),
  };
}
