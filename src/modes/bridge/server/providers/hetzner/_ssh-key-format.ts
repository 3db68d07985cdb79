import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";

/** An SSH `string`: a big-endian uint32 length, then the bytes (RFC 4251 §5). */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

/** A fresh ed25519 key pair in the forms OpenSSH and cloud-init read. */
export interface Ed25519KeyPair {
  type: "ssh-ed25519";
  /** The public key in SSH wire format (what known_hosts lines carry, base64-encoded). */
  publicWire: Buffer;
  /** `ssh-ed25519 AAAA… comment`, as in a `.pub` file. */
  publicLine: string;
  /** The private key as an unencrypted `-----BEGIN OPENSSH PRIVATE KEY-----` file. */
  privateOpenssh: string;
}

// The DER forms node:crypto exports for Ed25519 (RFC 8410) end with the 32 key bytes after a fixed prefix.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function rawKey(der: Buffer, prefix: Buffer, what: string): Buffer {
  if (der.length !== prefix.length + 32 || !der.subarray(0, prefix.length).equals(prefix)) throw new Error(`unexpected Ed25519 ${what} encoding from node:crypto`);
  return der.subarray(prefix.length);
}

/**
 * Generates an ed25519 key pair with node:crypto and encodes it as OpenSSH does (`ssh-keygen -t
 * ed25519 -N ""`): node:crypto writes PKCS#8 and SPKI only, and OpenSSH's `openssh-key-v1` container
 * (PROTOCOL.key in the OpenSSH sources) is small enough to write here.
 */
export function generateEd25519(comment: string): Ed25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = rawKey(publicKey.export({ type: "spki", format: "der" }), SPKI_PREFIX, "public key");
  const seed = rawKey(privateKey.export({ type: "pkcs8", format: "der" }), PKCS8_PREFIX, "private key");
  const publicWire = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = randomBytes(4);
  const parts = [check, check, sshString("ssh-ed25519"), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)];
  let length = parts.reduce((sum, part) => sum + part.length, 0);
  // Padded to the cipher block size (8 for "none") with the bytes 1, 2, 3…
  const padding: number[] = [];
  while ((length + padding.length) % 8 !== 0) padding.push(padding.length + 1);
  length += padding.length;
  const file = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"), // cipher
    sshString("none"), // kdf
    sshString(""), // kdf options
    uint32(1), // one key
    sshString(publicWire),
    sshString(Buffer.concat([...parts, Buffer.from(padding)])),
  ]);
  const body = file.toString("base64").replace(/.{1,70}/g, "$&\n");
  return {
    type: "ssh-ed25519",
    publicWire,
    publicLine: `ssh-ed25519 ${publicWire.toString("base64")} ${comment}`,
    privateOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

/** A public key as a `.pub` file or an authorized_keys line writes it. */
export interface PublicKey {
  type: string;
  /** SSH wire format. */
  blob: Buffer;
  /** `type base64 [comment]`, trimmed. */
  line: string;
}

/** The key of a `.pub` file's first key line, or undefined when it holds none. */
export function parsePublicKey(text: string): PublicKey | undefined {
  for (const raw of text.split("\n")) {
    const match = /^([a-z0-9@.-]+)\s+([A-Za-z0-9+/]+={0,2})(\s.*)?$/.exec(raw.trim());
    if (!match?.[1] || !match[2]) continue;
    const blob = Buffer.from(match[2], "base64");
    const named = blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1") : "";
    if (named === match[1]) return { type: match[1], blob, line: raw.trim() };
  }
  return undefined;
}

/** The MD5 fingerprint as `aa:bb:…`, the form Hetzner's `ssh_keys` API shows and filters by. */
export function md5Fingerprint(blob: Buffer): string {
  return createHash("md5").update(blob).digest("hex").replace(/(..)(?!$)/g, "$1:");
}
