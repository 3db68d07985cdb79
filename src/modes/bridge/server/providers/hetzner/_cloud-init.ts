import type { Ed25519KeyPair } from "./_ssh-key-format.ts";

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

// Double-quoted YAML scalars accept JSON's escapes, so JSON.stringify quotes any string safely.
const quote = (value: string | number | boolean | null) => (typeof value === "string" ? JSON.stringify(value) : String(value));
const plainKey = (key: string) => (/^[A-Za-z_][\w-]*$/.test(key) ? key : JSON.stringify(key));
// A literal block keeps keys and scripts readable; only text whose form it keeps exactly is written so.
const asBlock = (text: string) => /^[^\s]/.test(text) && /[^\n]\n$/.test(text) && !/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text);

/** `value` as block YAML after a `key:` or `-` at `indent`: a space and a scalar, or indented lines. */
function yaml(value: Yaml, indent: string): string {
  if (Array.isArray(value)) {
    return value.length === 0 ? " []" : value.map((item) => `\n${indent}-${yaml(item, `${indent}  `)}`).join("");
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    return entries.length === 0 ? " {}" : entries.map(([key, item]) => `\n${indent}${plainKey(key)}:${yaml(item, `${indent}  `)}`).join("");
  }
  if (typeof value === "string" && asBlock(value)) {
    return ` |\n${value.slice(0, -1).split("\n").map((line) => (line === "" ? "" : `${indent}${line}`)).join("\n")}`;
  }
  return ` ${quote(value)}`;
}

/** Rejects what containers send to the cloud's metadata service (169.254.169.254). */
export const METADATA_RULE = "iptables -I DOCKER-USER -d 169.254.169.254/32 -j REJECT";

/** The Docker data volume's mount, and Docker installed onto it, as one idempotent shell script. */
function dockerOnVolume(device: string): string {
  const done = "/var/lib/cloud/dockernet-docker-on-volume.done";
  return [
    // Marked done only at the end (cloud-init-per would mark a failed run done too): a failed run is retried at the next boot.
    `[ -e ${done} ] && exit 0`,
    `dev=${device}`,
    `i=0; while [ ! -e "$dev" ] && [ "$i" -lt 60 ]; do sleep 1; i=$((i + 1)); done`,
    // A volume Hetzner formatted (format: ext4) or a previous server used is never formatted again.
    `blkid "$dev" >/dev/null || mkfs.ext4 -q "$dev"`,
    `mkdir -p /var/lib/docker`,
    `grep -q ' /var/lib/docker ' /etc/fstab || echo "$dev /var/lib/docker ext4 discard,nofail,defaults 0 2" >> /etc/fstab`,
    `mountpoint -q /var/lib/docker || mount /var/lib/docker`,
    // nofail keeps a boot without the volume going, so Docker itself must wait for (and need) the mount.
    `mkdir -p /etc/systemd/system/docker.service.d`,
    `printf '[Unit]\\nRequiresMountsFor=/var/lib/docker\\n' > /etc/systemd/system/docker.service.d/dockernet-volume.conf`,
    // Containers never reach the metadata service: it hands the user data (the bootstrap host key)
    // to anyone on the server who asks. Docker's own DOCKER-USER chain is there once dockerd started.
    `cat > /etc/systemd/system/docker.service.d/dockernet-no-metadata.conf <<'EOF'`,
    `[Service]`,
    `ExecStartPost=/bin/sh -c '${METADATA_RULE.replace("-I", "-C")} 2>/dev/null || ${METADATA_RULE}'`,
    `EOF`,
    `export DEBIAN_FRONTEND=noninteractive`,
    `apt-get update -q`,
    `apt-get install -y -q docker.io`,
    `touch ${done}`,
    "",
  ].join("\n");
}

/**
 * The `#cloud-config` user data of a bridge server: the host key the bridge generated (so the bridge
 * knows it before the first connection), and Docker (Debian's `docker.io`) with /var/lib/docker on
 * the volume `device`.
 *
 * Docker is installed from `bootcmd`, not `packages`: cloud-init's first stages run before sshd
 * starts (cloud-init.service is ordered Before=sshd.service), and `packages` runs in the final stage,
 * after it. So once the SSH port answers, Docker is there, and the bridge's first Docker request
 * does not reach a server without a Docker socket. The script runs once (later boots keep the fstab
 * line and the systemd drop-in).
 */
export function cloudConfig(options: { hostKey: Ed25519KeyPair; volumeDevice: string }): string {
  const config: Yaml = {
    // The bridge connects as root with the user's key (Hetzner puts `ssh_keys` into root's authorized_keys).
    disable_root: false,
    // Only the given host key: no other key types the bridge would not know.
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: options.hostKey.privateOpenssh, ed25519_public: options.hostKey.publicLine },
    bootcmd: [["sh", "-ec", dockerOnVolume(options.volumeDevice)]],
  };
  return `#cloud-config\n# dockernet bridge: Docker with /var/lib/docker on a volume; the host key the bridge recorded.${yaml(config, "")}\n`;
}
