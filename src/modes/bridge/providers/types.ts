import type { Logger } from "../../../core/logger.ts";

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
}

/** One of the provider's servers labelled as dockernet's (`bridge server list`). */
export interface ListedServer {
  name: string;
  id: string;
  status: string;
  address: string;
  created: string;
}

/** How servers are found, made and removed. */
export interface Provider {
  name: "ssh" | "hetzner";
  /** Whether servers are created on demand (and destroyed when idle). */
  readonly createsServers: boolean;
  /** The server to connect to, created first when needed (each step logged: the client is waiting). */
  ensure(log: Logger): Promise<ServerInfo>;
  /** Destroys the server the bridge created (idle); its Docker data volume is kept. */
  destroy(log: Logger): Promise<void>;
  list(): Promise<ListedServer[]>;
  destroyNamed(name: string, log: Logger): Promise<void>;
}
