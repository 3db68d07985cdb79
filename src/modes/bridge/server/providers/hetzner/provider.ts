import { DockernetError, errorMessage, ExitCode, usageError } from "../../../../../core/errors.ts";
import { createLogger, type Logger } from "../../../../../core/logger.ts";
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { socketPath, type BridgeConfig } from "../../../config.ts";
import { parseSshUrl } from "../ssh.ts";
import type { ListedServer, Provider, ServerInfo } from "../types.ts";
import { HetznerApi, HetznerApiError, type HetznerAction, type HetznerServer, type HetznerServerType } from "./_api.ts";
import { cloudConfig } from "./_cloud-init.ts";
import { ensureSshKey, ensureVolume, hourlyPrice, LABEL_SELECTOR, LABELS } from "./_resources.ts";
import { shutDown } from "./_shutdown.ts";
import { generateEd25519 } from "./_ssh-key-format.ts";
import { waitForSsh } from "./_wait-ssh.ts";
import type { HetznerConfig } from "./config.ts";

export const HETZNER_ENDPOINT = "https://api.hetzner.cloud/v1";

/** Waits and retries; the defaults suit the real cloud, tests shorten them. */
export interface HetznerProviderOptions {
  /** Between two polls of a running action (default 1 s). */
  pollIntervalMs?: number;
  /** How long a server may take until its SSH port answers (default: bridge.create_timeout, 15 min: boot and Docker's install). */
  sshTimeoutMs?: number;
  /** Between two SSH port probes (default 2 s). */
  sshRetryMs?: number;
  /** For 429 and 5xx answers (default: 5 calls, 1 s to 16 s apart). */
  retry?: { attempts?: number; initialMs?: number; maxMs?: number };
}

type HostKey = NonNullable<ServerInfo["hostKey"]>;

/** The label naming the bridge that created a server: another bridge never adopts (nor destroys) it. */
export const OWNER_LABEL = "dockernet-bridge-owner";

/** This bridge, as a label value: its machine and socket (a restarted bridge is the same one). */
export function ownerOf(config: BridgeConfig): string {
  return createHash("sha256").update(`${hostname()}\0${socketPath(config)}`).digest("hex").slice(0, 16);
}

/**
 * The `hetzner` provider: a Hetzner Cloud server (labelled `dockernet=bridge`) created on demand
 * with the user's SSH key, a host key the bridge generated, and Docker on a volume that outlives
 * it; destroyed when idle. Token: `[bridge.hetzner] token`, else `HCLOUD_TOKEN`; endpoint:
 * `endpoint`, else `HCLOUD_ENDPOINT`, else the public API. The server is reached at its public
 * IPv4 as root on port 22; a `host` (`ssh://user@server:port`) changes only the user and port,
 * since the address changes with every server. Each call does what it is asked: the order of
 * ensure and destroy is ServerLifecycle's.
 */
export class HetznerProvider implements Provider {
  readonly name = "hetzner";
  readonly createsServers = true;
  readonly #config: HetznerConfig;
  readonly #identity: string;
  readonly #options: HetznerProviderOptions;
  readonly #token: string;
  readonly #endpoint: string;
  readonly #reach: { user: string; port: number };
  /**
   * The host key of a server this process created, until an ensure has returned it for the bridge
   * to record: a create that timed out waiting for SSH hands it over when the next ensure finds the server.
   */
  #unrecorded: { id: number; hostKey: HostKey } | undefined;
  /** The server the last ensure returned, so that reconnecting to it is not announced again. */
  #lastId: number | undefined;
  /** This bridge's OWNER_LABEL value. */
  readonly #owner: string;
  readonly #shutdownTimeoutMs: number;
  /** The server this bridge created or adopted: the only one its destroy deletes (by id, never by name alone). */
  #owned: { id: number; name: string } | undefined;
  /** The server an ensure created and no start confirmed yet (see Provider.unconfirmed). */
  #unconfirmed: { id: number; name: string } | undefined;
  readonly #createTimeoutMs: number;

  constructor(config: BridgeConfig, options: HetznerProviderOptions = {}) {
    this.#config = config.hetzner;
    this.#identity = config.identity;
    this.#options = options;
    this.#token = config.hetzner.token || process.env.HCLOUD_TOKEN || "";
    if (this.#token === "") {
      throw usageError("no Hetzner Cloud API token", "set HCLOUD_TOKEN, or token in [bridge.hetzner]: a Read & Write API token of the project (Cloud Console → Security → API tokens)");
    }
    this.#endpoint = (config.hetzner.endpoint || process.env.HCLOUD_ENDPOINT || HETZNER_ENDPOINT).replace(/\/+$/, "");
    this.#reach = config.host === "" ? { user: "root", port: 22 } : parseSshUrl(config.host);
    this.#owner = ownerOf(config);
    this.#shutdownTimeoutMs = config.shutdown_timeout;
    this.#createTimeoutMs = config.create_timeout;
  }

  get unconfirmed(): { name: string; id: string } | undefined {
    return this.#unconfirmed && { name: this.#unconfirmed.name, id: String(this.#unconfirmed.id) };
  }

  confirm(): void {
    this.#unconfirmed = undefined;
  }

  async ensure(log: Logger, signal?: AbortSignal): Promise<ServerInfo> {
    const api = this.#api(log);
    const existing = await this.#find(api, this.#config.server_name);
    if (existing === undefined) return await this.#create(api, log, signal);
    const owner = existing.labels[OWNER_LABEL];
    if (owner !== undefined && owner !== this.#owner) {
      throw new DockernetError(`the server ${existing.name} (id ${existing.id}) belongs to another bridge (${OWNER_LABEL}=${owner}, this one is ${this.#owner})`, {
        code: "HETZNER_SERVER_OTHER_BRIDGE",
        hint: "give this bridge its own [bridge.hetzner] server_name (two bridges sharing a server would destroy it under each other)",
      });
    }
    if (!["running", "initializing", "starting"].includes(existing.status)) {
      throw new DockernetError(`the server ${existing.name} is ${existing.status}`, {
        code: "HETZNER_SERVER_NOT_RUNNING",
        hint: `start it in the Cloud Console, or remove it: dockernet bridge server destroy ${existing.name} --provider hetzner`,
      });
    }
    const server = this.#serverInfo(existing, this.#unrecorded?.id === existing.id ? this.#unrecorded.hostKey : undefined);
    // Said once per server (a bridge restarted), not at every reconnect.
    log[existing.id === this.#lastId ? "debug" : "info"]("using the existing server", { name: server.name, id: existing.id, address: server.host, price: server.hourlyPrice });
    await waitForSsh(server.host, server.port, this.#sshWait(log, false, signal));
    this.#unrecorded = undefined;
    this.#lastId = existing.id;
    this.#owned = { id: existing.id, name: existing.name };
    return server;
  }

  async destroy(log: Logger): Promise<void> {
    const api = this.#api(log);
    // Never by name alone: the server this bridge created or adopted, else one labelled as its own.
    const server = this.#owned ?? (await this.#find(api, this.#config.server_name, this.#owner));
    if (server === undefined) {
      log.info("no server to destroy", { name: this.#config.server_name });
      return;
    }
    await this.#remove(api, server, log, { shutdown: true });
    if (this.#owned?.id === server.id) this.#owned = undefined;
  }

  async list(): Promise<ListedServer[]> {
    const servers = await this.#api(createLogger("bridge")).list<HetznerServer>("/servers", "servers", { label_selector: LABEL_SELECTOR });
    return servers.map((server) => ({ name: server.name, id: String(server.id), status: server.status, address: server.public_net.ipv4?.ip ?? "", created: server.created }));
  }

  async destroyNamed(name: string, log: Logger): Promise<void> {
    const api = this.#api(log);
    const server = await this.#find(api, name);
    if (server === undefined) {
      throw new DockernetError(`no server named ${name} labelled ${LABEL_SELECTOR}`, { code: "HETZNER_NOT_FOUND", exitCode: ExitCode.usage, hint: "dockernet bridge server list --provider hetzner shows dockernet's servers" });
    }
    await this.#remove(api, server, log, { shutdown: true });
    if (this.#owned?.id === server.id) this.#owned = undefined;
  }

  #api(log: Logger): HetznerApi {
    return new HetznerApi({ endpoint: this.#endpoint, token: this.#token, log, retry: this.#options.retry, pollIntervalMs: this.#options.pollIntervalMs });
  }

  #sshWait(log: Logger, announce: boolean, signal: AbortSignal | undefined) {
    return { log, announce, signal, timeoutMs: this.#options.sshTimeoutMs ?? this.#createTimeoutMs, retryMs: this.#options.sshRetryMs ?? 2000 };
  }

  async #find(api: HetznerApi, name: string, owner?: string): Promise<HetznerServer | undefined> {
    const label_selector = owner === undefined ? LABEL_SELECTOR : `${LABEL_SELECTOR},${OWNER_LABEL}=${owner}`;
    return (await api.list<HetznerServer>("/servers", "servers", { name, label_selector }))[0];
  }

  #serverInfo(server: HetznerServer, hostKey?: HostKey): ServerInfo {
    const ip = server.public_net.ipv4?.ip;
    if (!ip) throw new DockernetError(`the server ${server.name} has no public IPv4 address`, { code: "HETZNER_NO_IPV4" });
    const price = hourlyPrice(server.server_type.prices, server.datacenter.location.name);
    return { name: server.name, host: ip, port: this.#reach.port, user: this.#reach.user, createdByBridge: true, ...(price ? { hourlyPrice: price } : {}), ...(hostKey ? { hostKey, hostKeyPaths: { keyFile: this.#config.host_key_file, pidFile: this.#config.sshd_pid_file } } : {}) };
  }

  async #create(api: HetznerApi, log: Logger, signal: AbortSignal | undefined): Promise<ServerInfo> {
    const config = this.#config;
    const name = config.server_name;
    log.info("creating server", { name, server_type: config.server_type, location: config.location, image: config.image });
    const [type] = await api.list<HetznerServerType>("/server_types", "server_types", { name: config.server_type });
    if (type === undefined) throw usageError(`Hetzner has no server type ${config.server_type}`, "set [bridge.hetzner] server_type to one of Hetzner's (cx22, cpx11, cax11...)");
    const sshKey = await ensureSshKey(api, this.#identity, log);
    const volume = await ensureVolume(api, config, log);
    // The private half lives only here and in the user data: the bridge needs the public half only.
    const keyPair = generateEd25519(`root@${name}`);
    let created: { server: HetznerServer; action: HetznerAction; next_actions: HetznerAction[] };
    try {
      created = await api.call("POST", "/servers", {
        body: {
          name,
          server_type: config.server_type,
          location: config.location,
          image: config.image,
          ssh_keys: [sshKey.id],
          volumes: [volume.id],
          // cloud-init mounts the volume at /var/lib/docker; Hetzner's automount would mount it at /mnt/HC_Volume_<id> as well.
          automount: false,
          labels: { ...LABELS, [OWNER_LABEL]: this.#owner },
          user_data: cloudConfig({ hostKey: keyPair, volumeDevice: volume.linux_device }),
          start_after_create: true,
        },
      });
    } catch (error) {
      if (!(error instanceof HetznerApiError && error.apiCode === "uniqueness_error")) throw error;
      throw new DockernetError(`a server named ${name} exists already and is not labelled ${LABEL_SELECTOR}`, { code: "HETZNER_SERVER_FOREIGN", hint: "choose another [bridge.hetzner] server_name", cause: error });
    }
    const hostKey: HostKey = { type: keyPair.type, key: keyPair.publicWire.toString("base64") };
    this.#owned = { id: created.server.id, name };
    this.#unconfirmed = { id: created.server.id, name };
    this.#unrecorded = { id: created.server.id, hostKey };
    try {
      await api.waitFor([created.action, ...created.next_actions], `creating the server ${name}`);
    } catch (error) {
      // A server whose creation failed would be found and reused by the next ensure: remove it.
      if ((error as DockernetError).code === "HETZNER_ACTION_FAILED") await this.#remove(api, created.server, log).catch((cleanup) => log.warn("cannot remove the failed server", { name, error: errorMessage(cleanup) }));
      throw error;
    }
    const server = this.#serverInfo(created.server, hostKey);
    const price = hourlyPrice(type.prices, config.location);
    if (price) server.hourlyPrice = price;
    log.info("server created", { name, id: created.server.id, address: server.host, price });
    await waitForSsh(server.host, server.port, this.#sshWait(log, true, signal));
    this.#unrecorded = undefined;
    this.#lastId = created.server.id;
    return server;
  }

  async #remove(api: HetznerApi, server: Pick<HetznerServer, "id" | "name">, log: Logger, options: { shutdown?: boolean } = {}): Promise<void> {
    log.info("destroying server", { name: server.name, id: server.id });
    try {
      // A shutdown first (dockerd stops cleanly); a server gone meanwhile ends like a deleted one.
      const present = !options.shutdown || (await shutDown(api, server, { timeoutMs: this.#shutdownTimeoutMs, pollMs: this.#options.pollIntervalMs ?? 1000, log }));
      if (present) {
        const { action } = await api.call<{ action: HetznerAction }>("DELETE", `/servers/${server.id}`);
        await api.waitFor([action], `destroying the server ${server.name}`);
      }
    } catch (error) {
      if (!(error instanceof HetznerApiError && error.apiCode === "not_found")) throw error;
    }
    if (this.#unrecorded?.id === server.id) this.#unrecorded = undefined;
    if (this.#unconfirmed?.id === server.id) this.#unconfirmed = undefined;
    log.info("server destroyed; its Docker volume is kept", { name: server.name, volume: `${server.name}-docker` });
  }
}
