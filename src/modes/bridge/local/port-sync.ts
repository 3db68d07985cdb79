import { errorMessage } from "../../../core/errors.ts";
import { SerialQueue } from "../../../core/serial-queue.ts";
import type { HostPort } from "../../../docker/types.ts";
import type { PortForwards } from "./ports.ts";

/** Whether the remote engine answered the last scan (what `status` shows). */
export interface DockerReach {
  reachable: boolean;
  last_check: string | null;
  last_error: string | null;
}

/**
 * The remote engine's published ports kept forwarded, level-triggered: any start, stop or removal
 * (and the link coming up again) asks for one scan of the running containers' ports. Scans run
 * one at a time, and those asked for while one runs are one more after it (a burst of events is
 * one more list call, not one each): that last one sees every change.
 */
export class PortSync {
  readonly docker: DockerReach = { reachable: false, last_check: null, last_error: null };
  readonly #list: () => Promise<readonly HostPort[]>;
  readonly #forwards: PortForwards;
  readonly #queue = new SerialQueue();
  /** A scan is queued and has not started: a rescan asked for now is that one. */
  #queued = false;
  #stopped = false;

  constructor(options: { list(): Promise<readonly HostPort[]>; forwards: PortForwards }) {
    this.#list = options.list;
    this.#forwards = options.forwards;
  }

  /** Asks for a scan. */
  rescan(): void {
    if (this.#queued || this.#stopped) return;
    this.#queued = true;
    void this.#queue.run(async () => {
      this.#queued = false;
      await this.#scan();
    });
  }

  /** Takes no more scans. One in flight is not waited for (it may wait for the link): the forwards, closed for good, open nothing after it. */
  stop(): void {
    this.#stopped = true;
  }

  async #scan(): Promise<void> {
    try {
      const ports = await this.#list();
      Object.assign(this.docker, { reachable: true, last_check: new Date().toISOString(), last_error: null });
      await this.#forwards.sync(ports);
    } catch (error) {
      // Shown in `status`, and tried again at the next event or link-up (not retried in a loop).
      Object.assign(this.docker, { reachable: false, last_check: new Date().toISOString(), last_error: errorMessage(error) });
    }
  }
}
