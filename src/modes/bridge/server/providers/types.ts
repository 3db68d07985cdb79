import type { ConfigSection } from "../../../../config/spec.ts";
import type { Logger } from "../../../../core/logger.ts";
import type { BridgeConfig } from "../../config.ts";

/** Where the bridge connects: a server a provider made, or the user's own host. */
export interface ServerInfo {
  name: string;
  host: string;
  port: number;
  user: string;
  /** Made by the provider on demand (idle destroy applies), or the user's own. */
  createdByBridge: boolean;
  /** `€0.0060/h`, when the provider says. */
  hourlyPrice?: string;
  /** A host key the bridge itself gave the server (cloud-init), recorded before connecting. */
  hostKey?: { type: string; key: string };
  /** With `hostKey`: where the server keeps it, to replace it after the first verified login (the bootstrap key is no secret). */
  hostKeyPaths?: { keyFile: string; pidFile: string };
}

/** One of the provider's servers labelled as dockernet's (`bridge server list`). */
export interface ListedServer {
  name: string;
  id: string;
  status: string;
  address: string;
  created: string;
}

/**
 * How servers are found, made and removed. A provider does each call as asked and keeps no
 * order between them: `ServerLifecycle` (server/lifecycle.ts) alone decides when ensure and
 * destroy run, one at a time.
 */
export interface Provider {
  readonly name: string;
  /** Whether servers are created on demand (and destroyed when idle). */
  readonly createsServers: boolean;
  /** The server to connect to, created first when needed (each step logged: the client is waiting); `signal` stops a create's waits. */
  ensure(log: Logger, signal?: AbortSignal): Promise<ServerInfo>;
  /** A server an ensure created that no start has confirmed working yet: what a failed start deletes. */
  readonly unconfirmed?: { name: string; id: string } | undefined;
  /** The server created works (login and Docker answered): a later failure is not the start's. */
  confirm?(): void;
  /** Destroys the server the bridge created or adopted (idle, or a failed start), a shutdown first; its Docker data volume is kept. */
  destroy(log: Logger): Promise<void>;
  /** `bridge server list`. */
  list(): Promise<ListedServer[]>;
  /** `bridge server destroy NAME`. */
  destroyNamed(name: string, log: Logger): Promise<void>;
}

/** A provider class: made from the whole `[bridge]` section (its own block inside). */
export type ProviderClass = new (config: BridgeConfig) => Provider;

/** A line of the provider registry (registry.ts). */
export interface ProviderEntry {
  /** For `--help` and the README. */
  summary: string;
  /** Whether it creates servers (as `Provider.createsServers`), known before any is made: `bridge server` needs one that does. */
  createsServers: boolean;
  /** Its `[bridge.<name>]` block, when it has settings of its own. */
  config?: ConfigSection;
  /** The class, loaded only when a bridge uses the provider. */
  load(): Promise<ProviderClass>;
}
