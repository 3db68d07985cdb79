import { usageError } from "../../../../core/errors.ts";
import type { BridgeConfig } from "../../config.ts";
import { parseSshUrl } from "./ssh-url.ts";
import type { ListedServer, Provider, ServerInfo } from "./types.ts";

export { parseSshUrl };

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
    throw usageError("the ssh provider connects to an existing host: it creates and destroys no servers", "bridge server list|destroy needs a provider that creates servers, e.g. --provider hetzner");
  }
}
