import type { Algorithms, ServerHostKeyAlgorithm } from "ssh2";
import type { DockernetError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { SshErrorCode, sshError } from "./_errors.ts";
import { hostPort } from "./_tcp.ts";
import { checkHostKey, filesListing, fingerprint, hostPattern, knownKeyTypes, recordHostKey, wireKeyType, type HostKeyVerdict } from "./known-hosts.ts";

/** Host key algorithms to ask for, by the key type a known_hosts line lists. */
const ALGORITHMS_FOR_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

/** What {@link HostKeyGate} checks against. */
export interface HostKeyGateOptions {
  host: string;
  port: number;
  /** Every known_hosts file to read, dockernet's own included. */
  files: string[];
  /** Where a new key is recorded. */
  ownKnownHosts: string;
  acceptNew: boolean;
  log: Logger;
}

/**
 * The host-key decision of one connection attempt, as OpenSSH makes it: a known key passes; an
 * unknown one passes only with accept-new, and is then recorded once the key exchange has proved
 * the server holds it; a changed (or revoked) key never passes. A refused key becomes a
 * DockernetError that shows the fingerprint and what to do.
 */
export class HostKeyGate {
  readonly #options: HostKeyGateOptions;
  #presented: { key: Buffer; verdict: HostKeyVerdict } | undefined;
  #trusted: Buffer | undefined;
  #recording: Promise<void> | undefined;

  constructor(options: HostKeyGateOptions) {
    this.#options = options;
  }

  /**
   * Like OpenSSH, ask first for the host key algorithms of the keys known for the host: a server
   * with both an ed25519 and an RSA key, known by its RSA key, must show that one, or its
   * (unchanged) ed25519 key would look like a changed key.
   */
  algorithms(): Algorithms | undefined {
    const { host, port, files } = this.#options;
    const preferred = knownKeyTypes(host, port, files).flatMap((type) => ALGORITHMS_FOR_TYPE[type] ?? []);
    if (preferred.length === 0) return undefined;
    return { serverHostKey: { remove: preferred, prepend: preferred, append: [] } };
  }

  /** ssh2's `hostVerifier`. */
  readonly verify = (key: Buffer): boolean => {
    // Re-keying presents the key again: it must be the same one.
    if (this.#trusted) return this.#trusted.equals(key);
    const { host, port, files, acceptNew } = this.#options;
    const verdict = checkHostKey(host, port, key, files);
    this.#presented = { key, verdict };
    if (verdict === "known" || (verdict === "unknown" && acceptNew)) this.#trusted = key;
    return this.#trusted !== undefined;
  };

  /** Call on ssh2's "handshake" (the server has proved it holds the key): records an accepted new key. */
  handshakeDone(): void {
    if (this.#presented?.verdict !== "unknown" || !this.#trusted || this.#recording) return;
    const { key } = this.#presented;
    const { host, port, ownKnownHosts: file, log } = this.#options;
    this.#recording = recordHostKey(file, host, port, key, wireKeyType(key)).then(
      () => log.info("recorded a new SSH host key", { host: hostPort(host, port), fingerprint: fingerprint(key), file }),
      (error: unknown) => log.warn("could not record the new SSH host key; it is trusted for this connection only", { host: hostPort(host, port), file, error }),
    );
  }

  /** Resolves once a new key is written (or failed to be, which is logged). */
  async recorded(): Promise<void> {
    await this.#recording;
  }

  /** The fingerprint of the key that passed, or "". */
  fingerprint(): string {
    return this.#trusted ? fingerprint(this.#trusted) : "";
  }

  /** Why the connection failed if it was the host key: SSH_HOST_KEY_UNKNOWN or SSH_HOST_KEY_CHANGED. */
  refusal(): DockernetError | undefined {
    const presented = this.#presented;
    if (!presented || presented.verdict === "known" || this.#trusted) return undefined;
    const { host, port, files } = this.#options;
    const shown = hostPort(host, port);
    const print = `${wireKeyType(presented.key)} key ${fingerprint(presented.key)}`;
    if (presented.verdict === "unknown") {
      return sshError(SshErrorCode.hostKeyUnknown, `the SSH host key of ${shown} is not known: the server presents ${print}`, {
        hint: `check that fingerprint with the server's owner, then run again with --accept-new-host-key, or add the key to ~/.ssh/known_hosts (ssh-keyscan -p ${port} ${host})`,
      });
    }
    const pattern = hostPattern(host, port);
    const listing = filesListing(host, port, files);
    return sshError(SshErrorCode.hostKeyChanged, `the SSH host key of ${shown} has CHANGED: the server presents ${print}, which the known_hosts line(s) for it do not list (or list as revoked); this can be a man-in-the-middle attack`, {
      hint: `check the new fingerprint with the server's owner; if the key really changed, remove the old line (ssh-keygen -R '${pattern}' -f FILE) from ${(listing.length > 0 ? listing : files).join(", ")}, then connect again`,
    });
  }
}
