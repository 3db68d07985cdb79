import { join } from "node:path";
import { errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { SshLink } from "../../../ssh/connection.ts";
import { chooseKey } from "../../../ssh/key-choice.ts";
import { replaceHostKey } from "../../../ssh/host-key-rotation.ts";
import { defaultKnownHostsFiles, fingerprint, forgetHostKey, recordHostKey } from "../../../ssh/known-hosts.ts";
import { dockernetHome, type BridgeConfig } from "../config.ts";
import type { ActivityClock } from "../local/activity.ts";
import type { ServerLifecycle } from "../server/lifecycle.ts";
import type { ServerInfo } from "../server/providers/types.ts";
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
  const written: Written = new Map();
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
        const target = { host: server.host, port: server.port, username: server.user, ...keys, ...(config.identity ? { identityFile: config.identity } : {}), knownHostsFiles: [...defaultKnownHostsFiles(), ownKnownHosts], ownKnownHosts, acceptNewHostKey: config.accept_new_host_key };
        // Before the wait: a server that never answers is silent for up to 20 s, and the user must know where it waits.
        log.info(`connecting to ${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}`, { user: server.user });
        const link = await SshLink.connect(target, log);
        if (server.hostKey && server.hostKeyPaths) await replaceBootstrapKey(link, server, { ownKnownHosts, written, log });
        return link;
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

type Written = Map<string, { host: string; port: number; key: Buffer }>;

/**
 * After the first login verified with the bootstrap key (it travelled in the user data, which the
 * metadata service hands to anyone on the server): a new host key made on the server, recorded, and
 * the bootstrap key forgotten. A failure is logged and the bootstrap key stays trusted (the link works).
 */
async function replaceBootstrapKey(link: SshLink, server: ServerInfo, parts: { ownKnownHosts: string; written: Written; log: Logger }): Promise<void> {
  const { ownKnownHosts, written, log } = parts;
  const bootstrap = Buffer.from(server.hostKey!.key, "base64");
  try {
    const fresh = await replaceHostKey(link, server.hostKeyPaths!);
    await recordHostKey(ownKnownHosts, server.host, server.port, fresh.key, fresh.type);
    written.set(`${server.host}:${server.port} ${fresh.key.toString("base64")}`, { host: server.host, port: server.port, key: fresh.key });
    await forgetHostKey(ownKnownHosts, server.host, server.port, bootstrap);
    written.delete(`${server.host}:${server.port} ${server.hostKey!.key}`);
    log.info("the server's host key was replaced after the first verified login; the bootstrap key is forgotten", { address: `${server.host}:${server.port}`, fingerprint: fingerprint(fresh.key) });
  } catch (error) {
    log.warn("cannot replace the server's bootstrap host key: it stays trusted", { address: `${server.host}:${server.port}`, error: errorMessage(error) });
  }
}
