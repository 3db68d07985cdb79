import { errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { ReconcileDriver } from "../../../core/reconcile-driver.ts";
import type { HostPort } from "../../../docker/lifecycle.ts";
import type { PortForwards } from "./ports.ts";

/** Whether the remote engine answered the last scan (what `status` shows). */
export interface DockerReach {
  reachable: boolean;
  last_check: string | null;
  last_error: string | null;
}

/**
 * The remote engine's published ports kept forwarded, level-triggered: any start, stop or removal
 * (and the link coming up again) asks for one scan of the running containers' ports. The scans
 * run on the shared ReconcileDriver under one key: one at a time, and those asked for meanwhile
 * run as one after it (a burst of events is one more list call, not one each).
 */
export class PortSync {
  readonly docker: DockerReach = { reachable: false, last_check: null, last_error: null };
  readonly #driver: ReconcileDriver;

  constructor(options: { list(): Promise<readonly HostPort[]>; forwards: PortForwards; log: Logger }) {
    const scan = async () => {
      try {
        const ports = await options.list();
        Object.assign(this.docker, { reachable: true, last_check: new Date().toISOString(), last_error: null });
        await options.forwards.sync(ports);
      } catch (error) {
        // Shown in `status`, and tried again at the next event or link-up (not retried in a loop).
        Object.assign(this.docker, { reachable: false, last_check: new Date().toISOString(), last_error: errorMessage(error) });
      }
    };
    this.#driver = new ReconcileDriver({ log: options.log, listKeys: async () => ["ports"], reconcile: scan });
  }

  /** Asks for a scan. */
  rescan(): void {
    this.#driver.enqueue("ports");
  }

  /** Waits for the scans asked for so far. */
  settled(): Promise<void> {
    return this.#driver.drain();
  }

  /** Takes no more scans. One in flight is not waited for (it may wait for the link): the forwards, closed for good, open nothing after it. */
  stop(): void {
    void this.#driver.stop();
  }
}
