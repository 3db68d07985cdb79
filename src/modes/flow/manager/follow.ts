/**
 * The manager's containers on the shared events stream: at start (and after every resync) each
 * gets its socket back and directories nobody names are swept; then each event is told to the
 * clients and keeps the containers' sockets in step, so changes made outside the API show too.
 */
import { errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import type { DockerClient } from "../../../docker/client.ts";
import type { DockerEvent } from "../../../docker/types.ts";
import type { DaemonContext } from "../../types.ts";
import { socketDirLabel, type FlowConfig } from "../config.ts";
import type { ChannelHub } from "./channel.ts";
import type { Broadcaster } from "./clients.ts";
import type { OwnedContainers } from "./containers.ts";
import { toldOfEvent } from "./told.ts";

export interface FollowParts {
  owned: OwnedContainers;
  channels: ChannelHub;
  clients: Broadcaster;
}

/** Follows the manager's containers until disposed (unsubscribed). */
export class ContainerFollower implements AsyncDisposable {
  readonly #client: DockerClient;
  readonly #log: Logger;
  readonly #parts: FollowParts;
  #unsubscribe = (): void => {};

  constructor(context: { client: DockerClient; log: Logger }, parts: FollowParts) {
    this.#client = context.client;
    this.#log = context.log;
    this.#parts = parts;
  }

  /** Subscribes, then adopts the containers; resolves with how many the manager has. */
  async start(watch: DaemonContext<FlowConfig>["watch"]): Promise<number> {
    // The stream first, then the scan: a container removed in between is seen by its event.
    this.#unsubscribe = await watch({
      name: "flow",
      // Only the manager's own containers: the engine filters on the owner label.
      interest: { types: ["container"], labels: [this.#parts.owned.label] },
      onEvent: (event) => this.#onEvent(event),
      onResync: async () => void (await this.#adopt()),
    });
    return await this.#adopt();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#unsubscribe();
  }

  /**
   * Every container of the manager gets its socket back (one that cannot is logged and skipped:
   * it must not keep the manager down); directories no container of any instance names are removed.
   */
  async #adopt(): Promise<number> {
    const { owned, channels } = this.#parts;
    const containers = await owned.list();
    for (const container of containers) {
      if (container.dirName === undefined) continue;
      await channels.open(container.id, container.dirName).catch((error: unknown) => this.#log.error("cannot re-create a container's socket", { container: container.name, error: errorMessage(error) }));
    }
    // Other instances may share the socket dir: keep every directory a flow container names.
    const named = await this.#client.listContainers({ all: true, label: [socketDirLabel] });
    const swept = await channels.sweep(new Set(named.flatMap((container) => container.labels[socketDirLabel] ?? [])));
    if (swept.length > 0) this.#log.info("removed the sockets of containers gone", { directories: swept.length });
    return containers.length;
  }

  async #onEvent(event: DockerEvent): Promise<void> {
    const { owned, channels, clients } = this.#parts;
    const id = event.id;
    if (event.action === "rename" && event.name) owned.renamed(id, event.name);
    for (const told of toldOfEvent(event, event.name || owned.nameOf(id), new Date())) clients.all(told.event, told.data);
    if (event.action === "destroy") {
      owned.forget(id);
      await channels.close(id, { removeDir: true });
    } else if (event.action === "create" || event.action === "start") {
      // Created by another client of this instance, or restarted outside the API: make sure its socket is there.
      const dirName = event.attributes[socketDirLabel];
      if (dirName !== undefined && /^[0-9a-f]{16}$/.test(dirName)) await channels.open(id, dirName);
    }
  }
}
