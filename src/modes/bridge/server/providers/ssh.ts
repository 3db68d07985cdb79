import { usageError } from "../../../../core/errors.ts";
import { unbracket } from "../../../../ssh/known-hosts.ts";
import type { BridgeConfig } from "../../config.ts";
import type { ListedServer, Provider, ServerInfo } from "./types.ts";

/** `ssh://user@host:port` as a server to connect to. */
export function parseSshUrl(url: string): Pick<ServerInfo, "host" | "port" | "user"> {
  const parsed = new URL(url);
  return { host: unbracket(parsed.hostname), port: parsed.port ? Number(parsed.port) : 22, user: decodeURIComponent(parsed.username) || "root" };
}

/** The `ssh` provider: an existing host (`bridge.host`), never created or destroyed. */
export class SshProvider implements Provider {
  readonly name = "ssh";
  readonly createsServers = false;
  readonly #server: ServerInfo;

  constructor(config: BridgeConfig) {
    if (config.host === "") throw usageError("no host to bridge to", "give --host ssh://user@host[:port], or --provider hetzner");
    this.#server = { name: config.host, ...parseSshUrl(config.host), createdByBridge: false };
  }

  async ensure(): Promise<ServerInfo> {
    return this.#server;
  }

  async destroy(): Promise<void> {}

  list(): Promise<ListedServer[]> {
    return this.#refuse();
  }

  destroyNamed(): Promise<void> {
    return this.#refuse();
  }

  async #refuse(): Promise<never> {
    throw usageError("the ssh provider does not create or destroy servers", "bridge server list|destroy is for --provider hetzner");
  }
}
