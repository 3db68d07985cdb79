import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** How OpenSSH writes a host in known_hosts: `host`, or `[host]:port` for other ports. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `[::1]` as a URL writes it is `::1` to known_hosts (which brackets only to add a port). */
export function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1");
}

/** OpenSSH's host patterns: `*` any run of characters, `?` one character, nothing else special. */
function globMatches(pattern: string, text: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${regex}$`, "i").test(text);
}

/**
 * Whether a known_hosts host field lists `wanted`, as OpenSSH reads it: hashed entries, plain
 * names and patterns (`*.corp`, `10.0.0.?`), and a negated pattern (`!host`) that excludes the
 * host from the whole line even when another entry matches.
 */
function matchesHost(field: string, wanted: string): boolean {
  let matched = false;
  for (const entry of field.split(",")) {
    if (entry.startsWith("|1|")) {
      // Hashed: |1|base64(salt)|base64(HMAC-SHA1(salt, host)).
      const [, , salt, hash] = entry.split("|");
      if (salt && hash && createHmac("sha1", Buffer.from(salt, "base64")).update(wanted).digest("base64") === hash) matched = true;
    } else if (entry.startsWith("!")) {
      if (globMatches(entry.slice(1), wanted)) return false;
    } else if (entry === wanted || ((entry.includes("*") || entry.includes("?")) && globMatches(entry, wanted))) {
      matched = true;
    }
  }
  return matched;
}

/** The keys lines of known_hosts text list for a host, and every key listed under `@revoked`. */
function scan(text: string, host: string, port: number): { listed: Buffer[]; revoked: Buffer[] } {
  const wanted = hostPattern(unbracket(host), port);
  const listed: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const marker = line.startsWith("@") ? line.split(/\s+/, 1)[0] : undefined;
    const [hosts, , key] = (marker ? line.slice(marker.length).trim() : line).split(/\s+/);
    if (!hosts || !key) continue;
    if (marker === "@revoked") revoked.push(Buffer.from(key, "base64"));
    else if (marker === undefined && matchesHost(hosts, wanted)) listed.push(Buffer.from(key, "base64"));
  }
  return { listed, revoked };
}

/**
 * The public keys (SSH wire format) known_hosts text trusts for a host: its plain lines, less any
 * key listed under `@revoked` (which OpenSSH refuses even when another line lists it).
 * `@cert-authority` lines are not used: host certificates are not supported.
 */
export function knownKeys(text: string, host: string, port: number): Buffer[] {
  const { listed, revoked } = scan(text, host, port);
  return listed.filter((key) => !revoked.some((bad) => bad.equals(key)));
}

/** The known_hosts files OpenSSH reads by default. */
export function defaultKnownHostsFiles(): string[] {
  return [join(homedir(), ".ssh", "known_hosts"), "/etc/ssh/ssh_known_hosts"];
}

/** The text of each readable file, "" for one that is missing or unreadable (as OpenSSH skips it). */
function readAll(files: readonly string[]): string[] {
  return files.map((file) => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  });
}

/**
 * OpenSSH's fingerprint of a public key in SSH wire format: `SHA256:` and the unpadded base64 of
 * its SHA-256, as `ssh-keygen -lf` and `ssh` print it.
 */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The key type a wire-format public key names first (`ssh-ed25519`, `ssh-rsa`...), or "" when malformed. */
export function wireKeyType(key: Buffer): string {
  if (key.length < 4) return "";
  const length = key.readUInt32BE(0);
  return length > 0 && length <= 64 && key.length >= 4 + length ? key.subarray(4, 4 + length).toString("latin1") : "";
}

/** What the known_hosts files say about the key a server presents. */
export type HostKeyVerdict = "known" | "unknown" | "changed";

/**
 * Checks a server's key against known_hosts files as OpenSSH does: `known` when a line for the host
 * lists it; `changed` when the host is listed only with other keys (or the key is `@revoked` in any
 * of the files: it is refused the same way, never offered for recording); `unknown` when no line
 * names the host. Missing files count as empty.
 */
export function checkHostKey(host: string, port: number, key: Buffer, files: readonly string[]): HostKeyVerdict {
  // One text: a key `@revoked` in one file is refused even where another file trusts it.
  const { listed, revoked } = scan(readAll(files).join("\n"), host, port);
  if (revoked.some((bad) => bad.equals(key))) return "changed";
  if (listed.some((known) => known.equals(key))) return "known";
  return listed.length > 0 ? "changed" : "unknown";
}

/** The files among `files` with a line for the host (where an old key would have to be removed). */
export function filesListing(host: string, port: number, files: readonly string[]): string[] {
  const texts = readAll(files);
  return files.filter((_, i) => knownKeys(texts[i] ?? "", host, port).length > 0);
}

/** The key types known_hosts files list for a host, most preferred first (file order). */
export function knownKeyTypes(host: string, port: number, files: readonly string[]): string[] {
  const keys = knownKeys(readAll(files).join("\n"), host, port);
  return [...new Set(keys.map(wireKeyType).filter((type) => type !== ""))];
}

/**
 * Appends a known_hosts line for the host (`host`, or `[host]:port` for other ports than 22) to
 * `file`, creating the file 0600 and its directory 0700 when missing, as `ssh` does with
 * StrictHostKeyChecking=accept-new.
 */
export async function recordHostKey(file: string, host: string, port: number, key: Buffer, keyType: string): Promise<void> {
  if (!/^[\w@.-]+$/.test(keyType)) throw new Error(`bad SSH key type ${JSON.stringify(keyType)}`);
  const pattern = hostPattern(unbracket(host), port);
  if (/[\s,#]/.test(pattern)) throw new Error(`bad host for known_hosts: ${JSON.stringify(host)}`);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const before = await readFile(file, "utf8").catch(() => "");
  const separator = before === "" || before.endsWith("\n") ? "" : "\n";
  await appendFile(file, `${separator}${pattern} ${keyType} ${key.toString("base64")}\n`, { mode: 0o600 });
}

/**
 * Removes the lines of `file` that list exactly `key` for the host (what `recordHostKey` wrote for
 * a server that is gone: its address may be given to another server, which must be verified
 * afresh). Other lines stay. Returns how many were removed.
 */
export async function forgetHostKey(file: string, host: string, port: number, key: Buffer): Promise<number> {
  const pattern = hostPattern(unbracket(host), port);
  const encoded = key.toString("base64");
  const before = await readFile(file, "utf8").catch(() => undefined);
  if (before === undefined) return 0;
  const lines = before.split("\n");
  const kept = lines.filter((line) => {
    const [hosts, , data] = line.trim().split(/\s+/);
    return !(hosts === pattern && data === encoded);
  });
  const removed = lines.length - kept.length;
  if (removed > 0) {
    // Written aside and renamed: a crash half way never leaves a truncated known_hosts.
    const temporary = `${file}.${process.pid}.new`;
    await writeFile(temporary, kept.join("\n"), { mode: 0o600 });
    await rename(temporary, file);
  }
  return removed;
}

/**
 * A host-key check for an SSH connection: the server's key must be listed for that host in one
 * of the known_hosts files, as OpenSSH's StrictHostKeyChecking=yes would require. Unknown and
 * changed keys are both refused.
 */
export function hostKeyVerifier(host: string, port: number, files = defaultKnownHostsFiles()): (key: Buffer) => boolean {
  return (key) => checkHostKey(host, port, key, files) === "known";
}
