import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** How OpenSSH writes a host in known_hosts: `host`, or `[host]:port` for other ports. */
function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matchesHost(field: string, wanted: string): boolean {
  for (const entry of field.split(",")) {
    if (entry.startsWith("|1|")) {
      // Hashed: |1|base64(salt)|base64(HMAC-SHA1(salt, host)).
      const [, , salt, hash] = entry.split("|");
      if (salt && hash && createHmac("sha1", Buffer.from(salt, "base64")).update(wanted).digest("base64") === hash) return true;
    } else if (entry === wanted) {
      return true;
    }
  }
  return false;
}

/**
 * The public keys (SSH wire format) known_hosts text trusts for a host: its plain lines, less any
 * key listed under `@revoked` (which OpenSSH refuses even when another line lists it).
 * `@cert-authority` lines are not used: host certificates are not supported.
 */
export function knownKeys(text: string, host: string, port: number): Buffer[] {
  const wanted = hostPattern(host.replace(/^\[(.*)\]$/, "$1"), port);
  const keys: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const marker = line.startsWith("@") ? line.split(/\s+/, 1)[0] : undefined;
    const [hosts, , key] = (marker ? line.slice(marker.length).trim() : line).split(/\s+/);
    if (!hosts || !key) continue;
    if (marker === "@revoked") revoked.push(Buffer.from(key, "base64"));
    else if (marker === undefined && matchesHost(hosts, wanted)) keys.push(Buffer.from(key, "base64"));
  }
  return keys.filter((key) => !revoked.some((bad) => bad.equals(key)));
}

/** The known_hosts files OpenSSH reads by default. */
export function defaultKnownHostsFiles(): string[] {
  return [join(homedir(), ".ssh", "known_hosts"), "/etc/ssh/ssh_known_hosts"];
}

/**
 * A host-key check for an SSH connection: the server's key must be listed for that host in one
 * of the known_hosts files, as OpenSSH's StrictHostKeyChecking=yes would require. Unknown and
 * changed keys are both refused.
 */
export function hostKeyVerifier(host: string, port: number, files = defaultKnownHostsFiles()): (key: Buffer) => boolean {
  return (key) =>
    files.some((file) => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        return false;
      }
      return knownKeys(text, host, port).some((known) => known.equals(key));
    });
}
