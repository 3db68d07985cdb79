import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { DockernetError, usageError } from "../../../../../core/errors.ts";
import type { Logger } from "../../../../../core/logger.ts";
import type { HetznerConfig } from "./config.ts";
import type { HetznerAction, HetznerApi, HetznerPrice, HetznerSshKey, HetznerVolume } from "./_api.ts";
import { md5Fingerprint, parsePublicKey, type PublicKey } from "./_ssh-key-format.ts";

/** The label on everything the bridge creates, so `bridge server list` finds orphans. */
export const LABELS = { dockernet: "bridge" } as const;
export const LABEL_SELECTOR = "dockernet=bridge";

/** `€0.0060/h gross`: the hourly price in `location`, rounded to 4 places, or undefined when not listed. */
export function hourlyPrice(prices: readonly HetznerPrice[], location: string): string | undefined {
  const gross = Number(prices.find((price) => price.location === location)?.price_hourly.gross);
  // The API's decimals (0.0059500000) are rounded half up; the nudge undoes binary float error.
  return Number.isFinite(gross) ? `€${(Math.round(gross * 10_000 + 1e-9) / 10_000).toFixed(4)}/h gross` : undefined;
}

/** The user's public key: `identity` + `.pub`, else ~/.ssh/id_ed25519.pub, else ~/.ssh/id_rsa.pub. */
async function userPublicKey(identity: string): Promise<PublicKey & { path: string }> {
  const candidates = identity !== "" ? [`${identity}.pub`] : [join(homedir(), ".ssh", "id_ed25519.pub"), join(homedir(), ".ssh", "id_rsa.pub")];
  for (const path of candidates) {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const key = parsePublicKey(text);
    if (key === undefined) throw usageError(`${path} holds no SSH public key`);
    return { ...key, path };
  }
  throw identity !== ""
    ? usageError(`no public key beside the identity: cannot read ${identity}.pub`, `write it with: ssh-keygen -y -f ${identity} > ${identity}.pub`)
    : usageError(
        "no SSH public key to give the server: no ~/.ssh/id_ed25519.pub or ~/.ssh/id_rsa.pub",
        "create a key with ssh-keygen -t ed25519, or give --identity FILE (with FILE.pub beside it); a key only in the SSH agent cannot be given to a new server",
      );
}

/** The user's key as a Hetzner SSH key: found by fingerprint (under any name), else uploaded. */
export async function ensureSshKey(api: HetznerApi, identity: string, log: Logger): Promise<HetznerSshKey> {
  const key = await userPublicKey(identity);
  const fingerprint = md5Fingerprint(key.blob);
  const [found] = await api.list<HetznerSshKey>("/ssh_keys", "ssh_keys", { fingerprint });
  if (found) {
    log.debug("SSH key already in the project", { name: found.name, fingerprint });
    return found;
  }
  const name = `dockernet-${fingerprint.replaceAll(":", "").slice(0, 12)}`;
  log.info("uploading SSH key", { name, file: key.path, fingerprint });
  const { ssh_key } = await api.call<{ ssh_key: HetznerSshKey }>("POST", "/ssh_keys", { body: { name, public_key: key.line, labels: LABELS } });
  return ssh_key;
}

/** The volume that keeps /var/lib/docker across destroy: found by name, else created (ext4, labelled). */
export async function ensureVolume(api: HetznerApi, config: HetznerConfig, log: Logger): Promise<HetznerVolume> {
  // Named after the server, so two bridges (two server names) in one project do not share it.
  const name = `${config.server_name}-docker`;
  const [found] = await api.list<HetznerVolume>("/volumes", "volumes", { name });
  if (found) {
    const remove = `remove it in the Cloud Console, or choose another [bridge.hetzner] server_name`;
    if (found.labels.dockernet !== LABELS.dockernet) throw new DockernetError(`the volume ${name} exists but is not dockernet's (no label ${LABEL_SELECTOR})`, { code: "HETZNER_VOLUME_FOREIGN", hint: remove });
    if (found.location.name !== config.location) {
      throw new DockernetError(`the volume ${name} is in ${found.location.name}, the server would be in ${config.location}`, { code: "HETZNER_VOLUME_ELSEWHERE", hint: `set [bridge.hetzner] location = "${found.location.name}", or ${remove}` });
    }
    if (found.server !== null) throw new DockernetError(`the volume ${name} is attached to another server (${found.server})`, { code: "HETZNER_VOLUME_IN_USE", hint: "detach it or destroy that server (dockernet bridge server list)" });
    log.info("using the Docker volume", { name, size_gb: found.size });
    return found;
  }
  log.info("creating the Docker volume", { name, size_gb: config.volume_size, location: config.location });
  const created = await api.call<{ volume: HetznerVolume; action: HetznerAction; next_actions: HetznerAction[] }>("POST", "/volumes", {
    // Formatted by Hetzner; the server's cloud-init mounts it at /var/lib/docker.
    body: { name, size: config.volume_size, location: config.location, format: "ext4", labels: LABELS },
  });
  await api.waitFor([created.action, ...created.next_actions], `creating the volume ${name}`);
  return created.volume;
}
