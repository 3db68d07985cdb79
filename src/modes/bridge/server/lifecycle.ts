import { DockernetError, errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { SerialQueue } from "../../../core/serial-queue.ts";
import type { Provider, ServerInfo } from "./providers/types.ts";

/** What a connection to the server is, as far as the lifecycle cares: something it can close. */
export interface Closable {
  close(): void;
}

/** The error code of an ensure or connect overtaken by a destroy asked for after it. */
export const SERVER_DESTROYED = "BRIDGE_SERVER_DESTROYED";

export interface LifecycleOptions {
  /** `--keep-on-failure`: a server a failed start created is kept (for debugging), and the log says so. */
  keepOnFailure?: boolean;
  /** Stops a create in progress (SIGINT, SIGTERM while starting): its server is then deleted. */
  signal?: AbortSignal;
}

/**
 * The one owner of the order of ensure and destroy, and of the server the bridge shows. Ensures
 * and destroys reach the provider one at a time, in the order asked (an ensure running beside a
 * destroy would find the server being deleted); ensures asked for together share one (two
 * clients must not create two servers). The rule it keeps: **an ensure asked for before a destroy
 * never returns the destroyed server** — nor does a connection opened on it (`connect`): both
 * are refused with BRIDGE_SERVER_DESTROYED, and whoever asked again after the destroy gets a new one.
 *
 * And the order of a failed start: a server an ensure created is the start's until `confirmed()`
 * (login and Docker answered); an ensure that fails after creating one (SSH never answered within
 * create_timeout, or SIGINT/SIGTERM stopped it), or a start that fails before confirming, deletes
 * it before the error goes on (`--keep-on-failure` keeps it), with a log line naming it and why.
 */
export class ServerLifecycle {
  readonly #provider: Provider;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  #server: ServerInfo | undefined;
  /** Destroys asked for so far, and how many had been asked for when #server's ensure was. */
  #destroys = 0;
  #serverEpoch = 0;
  /** The ensure others asked for since the last destroy share. */
  #pending: Promise<ServerInfo> | undefined;

  readonly #options: LifecycleOptions;
  readonly #destroyed = new Set<() => Promise<void> | void>();

  constructor(provider: Provider, log: Logger, options: LifecycleOptions = {}) {
    this.#provider = provider;
    this.#log = log;
    this.#options = options;
  }

  get provider(): Provider {
    return this.#provider;
  }

  /** The server as it is now (for `status`): none after a destroy, the new one once an ensure made it. */
  get current(): ServerInfo | undefined {
    return this.#server;
  }

  /** Whether the next ensure makes the server: there was none yet, or the last one was (or is being) destroyed. */
  get missing(): boolean {
    return this.#server === undefined || this.#serverEpoch < this.#destroys;
  }

  /** The server, made first when needed; rejects with BRIDGE_SERVER_DESTROYED when a destroy was asked for meanwhile. */
  ensure(): Promise<ServerInfo> {
    if (this.#pending) return this.#pending;
    const epoch = this.#destroys;
    const { signal } = this.#options;
    const run = this.#queue.run(() => {
      if (signal?.aborted) throw new DockernetError(`stopped (${String(signal.reason)}) before the server was ready`, { code: "BRIDGE_CREATE_INTERRUPTED" });
      return this.#provider.ensure(this.#log, signal);
    }).then(
      (server) => {
        this.#refuseIfDestroyed(epoch, server.name);
        this.#server = server;
        this.#serverEpoch = epoch;
        return server;
      },
      async (error: unknown) => {
        await this.#discardUnconfirmed(error);
        throw error;
      },
    );
    this.#pending = run;
    const forget = () => {
      if (this.#pending === run) this.#pending = undefined;
    };
    run.then(forget, forget);
    return run;
  }

  /**
   * `open` on the server (ensured first; `creating` wraps that step when it makes the server).
   * What `open` gives after a destroy was asked for is closed and refused: it reaches the server
   * being destroyed.
   */
  async connect<T extends Closable>(open: (server: ServerInfo) => Promise<T>, options: { creating?: <R>(step: () => Promise<R>) => Promise<R> } = {}): Promise<T> {
    const epoch = this.#destroys;
    let opened: T;
    try {
      const creating = this.#provider.createsServers && this.missing && options.creating;
      opened = await open(creating ? await creating(() => this.ensure()) : await this.ensure());
    } catch (error) {
      // Failed because its server went away meanwhile (SSH refused while it is deleted): the destroy is the reason.
      this.#refuseIfDestroyed(epoch);
      throw error;
    }
    try {
      this.#refuseIfDestroyed(epoch);
    } catch (error) {
      opened.close();
      throw error;
    }
    return opened;
  }

  /** The provider's destroy, after what was asked before it; the server stays shown when it fails (it is still there). */
  async destroy(): Promise<void> {
    const epoch = ++this.#destroys;
    this.#pending = undefined;
    await this.#queue.run(() => this.#destroyNow());
    if (this.#serverEpoch < epoch) this.#server = undefined;
  }

  /** Calls `listener` after each server destroyed (to forget what was trusted for it); returns the unsubscribe. */
  onDestroyed(listener: () => Promise<void> | void): () => void {
    this.#destroyed.add(listener);
    return () => this.#destroyed.delete(listener);
  }

  async #destroyNow(): Promise<void> {
    await this.#provider.destroy(this.#log);
    for (const listener of this.#destroyed) {
      try {
        await listener();
      } catch (error) {
        this.#log.warn("cleanup after the destroy failed", { error: errorMessage(error) });
      }
    }
  }

  /** The start succeeded: the server it created is the bridge's now (idle destroy is what removes it). */
  confirmed(): void {
    this.#provider.confirm?.();
  }

  /** The start failed with `error`: the server it created, if any, is deleted (kept with --keep-on-failure). */
  async failedStart(error: unknown): Promise<void> {
    await this.#discardUnconfirmed(error);
  }

  async #discardUnconfirmed(error: unknown): Promise<void> {
    const made = this.#provider.unconfirmed;
    if (made === undefined) return;
    const fields = { name: made.name, id: made.id, reason: errorMessage(error) };
    if (this.#options.keepOnFailure) {
      this.#provider.confirm?.();
      this.#log.warn("the start failed; the server it created is kept (--keep-on-failure): remove it with dockernet bridge server destroy", fields);
      return;
    }
    this.#log.error("the start failed; deleting the server it created", fields);
    try {
      await this.#queue.run(() => this.#destroyNow());
    } catch (cleanup) {
      this.#log.error("cannot delete the server the failed start created: it is still billed", { ...fields, error: errorMessage(cleanup), hint: `dockernet bridge server destroy ${made.name}` });
    }
  }

  #refuseIfDestroyed(epoch: number, name = this.#server?.name): void {
    if (epoch !== this.#destroys) throw new DockernetError(`${name ? `the server ${name}` : "the server"} is being destroyed (idle)`, { code: SERVER_DESTROYED });
  }
}
