import { errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import type { ContainerSummary, DockerEvent } from "../../../docker/types.ts";
import type { ActivityClock } from "../local/activity.ts";

/** The label that keeps a running container from counting as use (`dockernet.bridge.idle=ignore`). */
export const IDLE_LABEL = "dockernet.bridge.idle";

export interface RunningWorkOptions {
  /** `bridge.idle_counts_running`: off, nothing on the server counts (only local traffic does). */
  countsRunning: boolean;
  /** The remote engine's running containers (a full look, after the events stream is (re)opened). */
  list(): Promise<readonly ContainerSummary[]>;
  activity: ActivityClock;
  log: Logger;
}

/**
 * The containers running on the server that count as use: a `docker run -d postgres` started
 * through the bridge keeps the server, however quiet the local socket is. Kept from the remote
 * engine's events (start adds, die/stop/destroy remove; the labels come with the event) and a
 * full list when the stream opens again, never polled. While any is running the activity clock is
 * held; the last one stopping starts the idle time from that moment.
 */
export class RunningWork {
  readonly #options: RunningWorkOptions;
  /** Container id -> name. */
  readonly #running = new Map<string, string>();

  constructor(options: RunningWorkOptions) {
    this.#options = options;
  }

  /** The names of the containers keeping the server, sorted (for `status`). */
  names(): string[] {
    return [...this.#running.values()].sort();
  }

  /** One container event of the remote engine. */
  event(event: DockerEvent): void {
    if (event.type !== "container") return;
    if (event.action === "start") {
      if (counts(event.attributes, this.#options.countsRunning)) this.#running.set(event.id, event.name);
    } else if (["die", "stop", "destroy"].includes(event.action)) {
      this.#running.delete(event.id);
    }
    this.#apply();
  }

  /** A full look at the running containers (the stream just opened, or the link came back). */
  async resync(): Promise<void> {
    try {
      const list = await this.#options.list();
      this.#running.clear();
      for (const container of list) if (container.running && counts(container.labels, this.#options.countsRunning)) this.#running.set(container.id, container.name);
      this.#apply();
    } catch (error) {
      // The link is down (or the server gone): what was known stays until the next look.
      this.#options.log.debug("cannot list the server's running containers", { error: errorMessage(error) });
    }
  }

  /** The server was destroyed: nothing runs on it any more. */
  clear(): void {
    this.#running.clear();
    this.#apply();
  }

  #apply(): void {
    this.#options.activity.hold(this.#running.size > 0);
  }
}

function counts(labels: Record<string, string>, countsRunning: boolean): boolean {
  return countsRunning && labels[IDLE_LABEL] !== "ignore";
}
