import { DockernetError, ExitCode } from "../../../core/errors.ts";
import type { BridgeConfig } from "../config.ts";
import type { Provider, ServerInfo } from "./types.ts";
import { unbracket } from "../../../ssh/known-hosts.ts";

/** `ssh://user@host:port` as a server to connect to. */
export function parseSshUrl(url: string): Pick<ServerInfo, "host" | "port" | "user"> {
  const parsed = new URL(url);
  return { host: unbracket(parsed.hostname), port: parsed.port ? Number(parsed.port) : 22, user: decodeURIComponent(parsed.username) || "root" };
}

/** The `ssh` provider: an existing host (`bridge.host`), never created or destroyed. */
export function sshProvider(config: BridgeConfig): Provider {
  if (config.host === "") {
    throw new DockernetError("no host to bridge to", { code: "USAGE", exitCode: ExitCode.usage, hint: "give --host ssh://user@host[:port], or --provider hetzner" });
  }
  const server: ServerInfo = { name: config.host, ...parseSshUrl(config.host), createdByBridge: false };
  const refuse = async () => {
    throw new DockernetError("the ssh provider does not create or destroy servers", { code: "USAGE", exitCode: ExitCode.usage, hint: "bridge server list|destroy is for --provider hetzner" });
  };
  return {
    name: "ssh",
    createsServers: false,
    ensure: async () => server,
    destroy: async () => {},
    list: refuse,
    destroyNamed: refuse,
  };
}
