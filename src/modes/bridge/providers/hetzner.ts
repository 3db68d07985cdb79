import { DockernetError, errorMessage, ExitCode } from "../../../core/errors.ts";
import { createLogger, type Logger } from "../../../core/logger.ts";
import type { BridgeConfig } from "../config.ts";
import { HetznerApi, HetznerApiError, type HetznerAction, type HetznerServer, type HetznerServerType } from "./_hetzner-api.ts";
import { cloudConfig } from "./_hetzner-cloud-init.ts";
import { ensureSshKey, ensureVolume, hourlyPrice, LABEL_SELECTOR, LABELS } from "./_hetzner-resources.ts";
import { waitForSsh } from "./_hetzner-wait-ssh.ts";
import { generateEd25519 } from "./_ssh-key-format.ts";
import { parseSshUrl } from "./ssh.ts";
import type { ListedServer, Provider, ServerInfo } from "./types.ts";

export const HETZNER_ENDPOINT = "https://api.hetzner.cloud/v1";

/** Waits and retries; the defaults suit the real cloud, tests shorten them. */
export interface HetznerProviderOptions {
  /** Between two polls of a running action (default 1 s). */
  pollIntervalMs?: number;
  /** How long a server may take until its SSH port answers (default 10 min: boot and Docker's install). */
  sshTimeoutMs?: number;
  /** Between two SSH port probes (default 2 s). */
  sshRetryMs?: number;
  /** For 429 and 5xx answers (default: 5 calls, 1 s to 16 s apart). */
  retry?: { attempts?: number; initialMs?: number; maxMs?: number };
}

type HostKey = NonNullable<ServerInfo["hostKey"]>;

/**
 * The `hetzner` provider: a Hetzner Cloud server (labelled `dockernet=bridge`) created on demand
 * with the user's SSH key, a host key the bridge generated, and Docker on a volume that outlives
 * it; destroyed when idle. Token: `[bridge] hetzner_token`, else `HCLOUD_TOKEN`; endpoint:
 * `hetzner_endpoint`, else `HCLOUD_ENDPOINT`, else the public API. The server is reached at its
 * public IPv4 as root on port 22; a `host` (`ssh://user@server:port`) changes only the user and port,
 * since the address changes with every server.
 */
export function hetznerProvider(config: BridgeConfig, options: HetznerProviderOptions = {}): Provider {
  const token = config.hetzner_token || process.env.HCLOUD_TOKEN || "";
  if (token === "") {
    throw new DockernetError("no Hetzner Cloud API token", {
      code: "USAGE",
      exitCode: ExitCode.usage,
      hint: "set HCLOUD_TOKEN, or hetzner_token in [bridge]: a Read & Write API token of the project (Cloud Console → Security → API tokens)",
    });
  }
  const endpoint = (config.hetzner_endpoint || process.env.HCLOUD_ENDPOINT || HETZNER_ENDPOINT).replace(/\/+$/, "");
  const reach = config.host === "" ? { user: "root", port: 22 } : parseSshUrl(config.host);
  const api = (log: Logger) => new HetznerApi({ endpoint, token, log, retry: options.retry, pollIntervalMs: options.pollIntervalMs });
  const ssh = (log: Logger, announce: boolean) => ({ log, announce, timeoutMs: options.sshTimeoutMs ?? 600_000, retryMs: options.sshRetryMs ?? 2000 });
  const find = async (client: HetznerApi, name: string) => (await client.list<HetznerServer>("/servers", "servers", { name, label_selector: LABEL_SELECTOR }))[0];

  const serverInfo = (server: HetznerServer, hostKey?: HostKey): ServerInfo => {
    const ip = server.public_net.ipv4?.ip;
    if (!ip) throw new DockernetError(`the server ${server.name} has no public IPv4 address`, { code: "HETZNER_NO_IPV4" });
    const price = hourlyPrice(server.server_type.prices, server.datacenter.location.name);
    return { name: server.name, host: ip, port: reach.port, user: reach.user, createdByBridge: true, ...(price ? { hourlyPrice: price } : {}), ...(hostKey ? { hostKey } : {}) };
  };

  // The host key of a server this process created, until an ensure has returned it for the bridge to
  // record: a create that timed out waiting for SSH hands it over when the next ensure finds the server.
  let unrecorded: { id: number; hostKey: HostKey } | undefined;
  let lastId: number | undefined;

  const create = async (client: HetznerApi, log: Logger): Promise<ServerInfo> => {
    const name = config.server_name;
    log.info("creating server", { name, server_type: config.server_type, location: config.location, image: config.image });
    const [type] = await client.list<HetznerServerType>("/server_types", "server_types", { name: config.server_type });
    if (type === undefined) {
      throw new DockernetError(`Hetzner has no server type ${config.server_type}`, { code: "USAGE", exitCode: ExitCode.usage, hint: "set [bridge] server_type to one of Hetzner's (cx22, cpx11, cax11...)" });
    }
    const sshKey = await ensureSshKey(client, config, log);
    const volume = await ensureVolume(client, config, log);
    // The private half lives only here and in the user data: the bridge needs the public half only.
    const keyPair = generateEd25519(`root@${name}`);
    let created: { server: HetznerServer; action: HetznerAction; next_actions: HetznerAction[] };
    try {
      created = await client.call("POST", "/servers", {
        body: {
          name,
          server_type: config.server_type,
          location: config.location,
          image: config.image,
          ssh_keys: [sshKey.id],
          volumes: [volume.id],
          // cloud-init mounts the volume at /var/lib/docker; Hetzner's automount would mount it at /mnt/HC_Volume_<id> as well.
          automount: false,
          labels: LABELS,
          user_data: cloudConfig({ hostKey: keyPair, volumeDevice: volume.linux_device }),
          start_after_create: true,
        },
      });
    } catch (error) {
      if (!(error instanceof HetznerApiError && error.apiCode === "uniqueness_error")) throw error;
      throw new DockernetError(`a server named ${name} exists already and is not labelled ${LABEL_SELECTOR}`, { code: "HETZNER_SERVER_FOREIGN", hint: "choose another [bridge] server_name", cause: error });
    }
    const hostKey: HostKey = { type: keyPair.type, key: keyPair.publicWire.toString("base64") };
    unrecorded = { id: created.server.id, hostKey };
    try {
      await client.waitFor([created.action, ...created.next_actions], `creating the server ${name}`);
    } catch (error) {
      // A server whose creation failed would be found and reused by the next ensure: remove it.
      if ((error as DockernetError).code === "HETZNER_ACTION_FAILED") await remove(client, created.server, log).catch((cleanup) => log.warn("cannot remove the failed server", { name, error: errorMessage(cleanup) }));
      throw error;
    }
    const server = serverInfo(created.server, hostKey);
    const price = hourlyPrice(type.prices, config.location);
    if (price) server.hourlyPrice = price;
    log.info("server created", { name, id: created.server.id, address: server.host, price });
    await waitForSsh(server.host, server.port, ssh(log, true));
    unrecorded = undefined;
    lastId = created.server.id;
    return server;
  };

  const ensure = async (log: Logger): Promise<ServerInfo> => {
    const client = api(log);
    const existing = await find(client, config.server_name);
    if (existing === undefined) return await create(client, log);
    if (!["running", "initializing", "starting"].includes(existing.status)) {
      throw new DockernetError(`the server ${existing.name} is ${existing.status}`, {
        code: "HETZNER_SERVER_NOT_RUNNING",
        hint: `start it in the Cloud Console, or remove it: dockernet bridge server destroy ${existing.name} --provider hetzner`,
      });
    }
    const server = serverInfo(existing, unrecorded?.id === existing.id ? unrecorded.hostKey : undefined);
    // Said once per server (a bridge restarted), not at every reconnect.
    log[existing.id === lastId ? "debug" : "info"]("using the existing server", { name: server.name, id: existing.id, address: server.host, price: server.hourlyPrice });
    await waitForSsh(server.host, server.port, ssh(log, false));
    unrecorded = undefined;
    lastId = existing.id;
    return server;
  };

  const remove = async (client: HetznerApi, server: Pick<HetznerServer, "id" | "name">, log: Logger): Promise<void> => {
    log.info("destroying server", { name: server.name, id: server.id });
    try {
      const { action } = await client.call<{ action: HetznerAction }>("DELETE", `/servers/${server.id}`);
      await client.waitFor([action], `destroying the server ${server.name}`);
    } catch (error) {
      if (!(error instanceof HetznerApiError && error.apiCode === "not_found")) throw error;
    }
    if (unrecorded?.id === server.id) unrecorded = undefined;
    log.info("server destroyed; its Docker volume is kept", { name: server.name, volume: `${server.name}-docker` });
  };

  // Ensures and destroys run one at a time, in the order asked: an idle destroy and the next Docker
  // client's ensure can come together, and an ensure running beside a destroy would find the
  // server that is being deleted (and reuse it, or fail on its status).
  let tail: Promise<unknown> = Promise.resolve();
  const serially = <T>(step: () => Promise<T>): Promise<T> => {
    const run = tail.then(step);
    tail = run.catch(() => {});
    return run;
  };
  // Ensures asked for together share one (two clients must not create two servers), but never
  // one asked for before a destroy: that one's server is the destroyed one.
  let pending: Promise<ServerInfo> | undefined;
  const shared = (log: Logger): Promise<ServerInfo> => {
    if (pending) return pending;
    const run: Promise<ServerInfo> = serially(() => ensure(log)).finally(() => {
      if (pending === run) pending = undefined;
    });
    pending = run;
    return run;
  };
  const destroy = async (log: Logger): Promise<void> => {
    const client = api(log);
    const server = await find(client, config.server_name);
    if (server === undefined) log.info("no server to destroy", { name: config.server_name });
    else await remove(client, server, log);
  };
  return {
    name: "hetzner",
    createsServers: true,
    ensure: shared,
    destroy: (log) => {
      pending = undefined;
      return serially(() => destroy(log));
    },
    list: async (): Promise<ListedServer[]> => {
      const servers = await api(createLogger("bridge")).list<HetznerServer>("/servers", "servers", { label_selector: LABEL_SELECTOR });
      return servers.map((server) => ({ name: server.name, id: String(server.id), status: server.status, address: server.public_net.ipv4?.ip ?? "", created: server.created }));
    },
    destroyNamed: async (name, log) => {
      const client = api(log);
      const server = await find(client, name);
      if (server === undefined) {
        throw new DockernetError(`no server named ${name} labelled ${LABEL_SELECTOR}`, { code: "HETZNER_NOT_FOUND", exitCode: ExitCode.usage, hint: "dockernet bridge server list --provider hetzner shows dockernet's servers" });
      }
      await serially(() => remove(client, server, log));
    },
  };
}
