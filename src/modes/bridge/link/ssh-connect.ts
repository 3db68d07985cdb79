import { join } from "node:path";
import type { Logger } from "../../../core/logger.ts";
import { SshLink } from "../../../ssh/connection.ts";
import { chooseKey } from "../../../ssh/key-choice.ts";
import { defaultKnownHostsFiles, forgetHostKey, recordHostKey } from "../../../ssh/known-hosts.ts";
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
  // The lines this bridge wrote, removed when their server is destroyed: a provider gives the
  // address to another server later, and that one must be verified afresh, not by the old key.
  const written = new Map<string, { host: string; port: number; key: Buffer }>();
  servers.onDestroyed(async () => {
    for (const [id, line] of written) {
      const removed = await forgetHostKey(ownKnownHosts, line.host, line.port, line.key);
      written.delete(id);
      log.info("host key of the destroyed server forgotten", { address: `${line.host}:${line.port}`, lines: removed });
    }
  });
  return (steps) =>
    servers.connect(
      async (server) => {
        if (server.hostKey) {
          const key = Buffer.from(server.hostKey.key, "base64");
          await recordHostKey(ownKnownHosts, server.host, server.port, key, server.hostKey.type);
          written.set(`${server.host}:${server.port} ${server.hostKey.key}`, { host: server.host, port: server.port, key });
        }
        const target = { host: server.host, port: server.port, username: server.user, ...keys, knownHostsFiles: [...defaultKnownHostsFiles(), ownKnownHosts], ownKnownHosts, acceptNewHostKey: config.accept_new_host_key };
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
