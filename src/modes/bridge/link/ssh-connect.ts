import { join } from "node:path";
import type { Logger } from "../../../core/logger.ts";
import { SshLink } from "../../../ssh/connection.ts";
import { chooseKey } from "../../../ssh/key-choice.ts";
import { defaultKnownHostsFiles, recordHostKey } from "../../../ssh/known-hosts.ts";
import { dockernetHome, type BridgeConfig } from "../config.ts";
import type { ActivityClock } from "../local/activity.ts";
import type { ServerLifecycle } from "../server/lifecycle.ts";
import type { ConnectSteps } from "./supervisor.ts";

/**
 * How the link supervisor connects: the server from the lifecycle (created first when needed),
 * the host key the provider gave it recorded in dockernet's known_hosts, then one SSH login with
 * the key `chooseKey` picks (chosen once, at start).
 */
export async function sshConnector(config: BridgeConfig, parts: { servers: ServerLifecycle; activity: ActivityClock; log: Logger }): Promise<(steps: ConnectSteps) => Promise<SshLink>> {
  const { servers, activity, log } = parts;
  const keys = await chooseKey({ identity: config.identity, filesFirst: servers.provider.createsServers });
  const ownKnownHosts = config.known_hosts === "" ? join(dockernetHome(), "known_hosts") : config.known_hosts;
  return (steps) =>
    servers.connect(
      async (server) => {
        if (server.hostKey) await recordHostKey(ownKnownHosts, server.host, server.port, Buffer.from(server.hostKey.key, "base64"), server.hostKey.type);
        const target = { host: server.host, port: server.port, username: server.user, ...keys, ...(config.identity ? { identityFile: config.identity } : {}), knownHostsFiles: [...defaultKnownHostsFiles(), ownKnownHosts], ownKnownHosts, acceptNewHostKey: config.accept_new_host_key };
        // Before the wait: a server that never answers is silent for up to 20 s, and the user must know where it waits.
        log.info(`connecting to ${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}`, { user: server.user });
        return await SshLink.connect(target, log);
      },
      {
        // Creating a server takes minutes: the Docker clients waiting meanwhile wait for it, and that time is not idle time.
        creating: async (step) => {
          const made = await steps.creating(step);
          activity.touch();
          return made;
        },
      },
    );
}
