import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkHostKey, filesListing, fingerprint, forgetHostKey, hostKeyVerifier, knownKeys, knownKeyTypes, recordHostKey, wireKeyType } from "../../src/ssh/known-hosts.ts";
import { useScratch } from "../support/scratch.ts";

const scratch = useScratch("dockernet-kh-");

const key = Buffer.from("0000000b7373682d656432353531390000002001020304", "hex");
const other = Buffer.from("0000000b7373682d6564323535313900000020ffffffff", "hex");
const b64 = key.toString("base64");

function hashed(host: string): string {
  const salt = Buffer.from("0123456789abcdef0123");
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(host).digest("base64")}`;
}

describe("known_hosts", () => {
  test("plain, comma-separated and [host]:port entries", () => {
    const text = `# comment\nexample.org,10.0.0.5 ssh-ed25519 ${b64}\n[10.0.0.5]:2222 ssh-ed25519 ${other.toString("base64")} user@x\n`;
    expect(knownKeys(text, "10.0.0.5", 22)).toEqual([key]);
    expect(knownKeys(text, "example.org", 22)).toEqual([key]);
    expect(knownKeys(text, "10.0.0.5", 2222)).toEqual([other]);
    expect(knownKeys(text, "10.0.0.6", 22)).toEqual([]);
  });

  test("patterns (* and ?) and negated patterns, as OpenSSH reads them", () => {
    const text = `*.corp,!evil.corp ssh-ed25519 ${b64}
[10.0.0.?]:2222 ssh-ed25519 ${other.toString("base64")}
`;
    expect(knownKeys(text, "build.corp", 22)).toEqual([key]);
    expect(knownKeys(text, "BUILD.CORP", 22)).toEqual([key]);
    expect(knownKeys(text, "evil.corp", 22)).toEqual([]);
    expect(knownKeys(text, "corp", 22)).toEqual([]);
    expect(knownKeys(text, "10.0.0.7", 2222)).toEqual([other]);
    expect(knownKeys(text, "10.0.0.17", 2222)).toEqual([]);
    // A host listed under a pattern with another key has a changed key, not an unknown one.
    const dir = scratch();
    const file = join(dir, "known_hosts");
    writeFileSync(file, text);
    expect(checkHostKey("build.corp", 22, other, [file])).toBe("changed");
  });

  test("hashed entries (HashKnownHosts yes)", () => {
    const text = `${hashed("[10.0.0.5]:2222")} ssh-ed25519 ${b64}\n`;
    expect(knownKeys(text, "10.0.0.5", 2222)).toEqual([key]);
    expect(knownKeys(text, "10.0.0.5", 22)).toEqual([]);
  });

  test("@revoked and @cert-authority lines are not trusted keys", () => {
    expect(knownKeys(`@revoked 10.0.0.5 ssh-ed25519 ${b64}\n`, "10.0.0.5", 22)).toEqual([]);
  });

  test("a key listed under @revoked is refused even where another line trusts it", () => {
    expect(knownKeys(`10.0.0.5 ssh-ed25519 ${b64}\n@revoked * ssh-ed25519 ${b64}\n`, "10.0.0.5", 22)).toEqual([]);
  });

  test("an IPv6 host in URL brackets matches its known_hosts form", () => {
    expect(knownKeys(`[::1]:2222 ssh-ed25519 ${b64}\n::1 ssh-ed25519 ${b64}\n`, "[::1]", 2222)).toEqual([key]);
    expect(knownKeys(`::1 ssh-ed25519 ${b64}\n`, "[::1]", 22)).toEqual([key]);
  });

  test("the verifier accepts the listed key only; missing files refuse", () => {
    const dir = scratch();
    const file = join(dir, "known_hosts");
    writeFileSync(file, `10.0.0.5 ssh-ed25519 ${b64}\n`);
    const verify = hostKeyVerifier("10.0.0.5", 22, [join(dir, "missing"), file]);
    expect(verify(key)).toBe(true);
    expect(verify(other)).toBe(false);
    expect(hostKeyVerifier("10.0.0.5", 22, [join(dir, "missing")])(key)).toBe(false);
  });
});

/** A real ed25519 public key and its fingerprint as `ssh-keygen -lf` printed it. */
const realKey = Buffer.from("AAAAC3NzaC1lZDI1NTE5AAAAIHkDxbBTI72oI2yoNZ8/FCLLZRzxhQ1+VreGnEHrpZ6K", "base64");
const realFingerprint = "SHA256:DhvYwJ/0EdDqG6sQMEygaMgN1gLzqmx3pEFy14DRCtk";

function tempDir(): string {
  return scratch();
}

describe("fingerprints and key types", () => {
  test("SHA256 fingerprint as OpenSSH prints it (unpadded base64)", () => {
    expect(fingerprint(realKey)).toBe(realFingerprint);
    expect(fingerprint(key)).not.toContain("=");
  });

  test("the key type named in the wire format", () => {
    expect(wireKeyType(realKey)).toBe("ssh-ed25519");
    expect(wireKeyType(Buffer.from("0000"))).toBe("");
    expect(wireKeyType(Buffer.from("ffffffff00", "hex"))).toBe("");
  });
});

describe("checkHostKey", () => {
  const dir = tempDir();
  const openssh = join(dir, "openssh");
  const own = join(dir, "own");
  writeFileSync(openssh, `10.0.0.5 ssh-ed25519 ${b64}\n[10.0.0.5]:2222 ssh-ed25519 ${b64}\n`);
  writeFileSync(own, `example.org ssh-ed25519 ${other.toString("base64")}\n`);
  const files = [join(dir, "missing"), openssh, own];

  test("known: listed for that host and port, in any of the files", () => {
    expect(checkHostKey("10.0.0.5", 22, key, files)).toBe("known");
    expect(checkHostKey("10.0.0.5", 2222, key, files)).toBe("known");
    expect(checkHostKey("example.org", 22, other, files)).toBe("known");
  });

  test("changed: the host is listed, but with other keys only", () => {
    expect(checkHostKey("10.0.0.5", 22, other, files)).toBe("changed");
    expect(checkHostKey("example.org", 22, key, files)).toBe("changed");
  });

  test("unknown: no line names the host (another port is another host)", () => {
    expect(checkHostKey("10.0.0.6", 22, key, files)).toBe("unknown");
    expect(checkHostKey("example.org", 2200, key, files)).toBe("unknown");
    expect(checkHostKey("10.0.0.5", 22, key, [join(dir, "missing")])).toBe("unknown");
  });

  test("a key revoked in one file is refused (as changed), even where another file lists it; never unknown", () => {
    const revokedFile = join(dir, "revoked");
    writeFileSync(revokedFile, `@revoked * ssh-ed25519 ${b64}\n`);
    expect(checkHostKey("10.0.0.5", 22, key, [openssh, revokedFile])).toBe("changed");
    expect(checkHostKey("10.9.9.9", 22, key, [revokedFile])).toBe("changed");
    expect(hostKeyVerifier("10.0.0.5", 22, [openssh, revokedFile])(key)).toBe(false);
  });

  test("the files that list a host, and the key types listed for it", () => {
    expect(filesListing("10.0.0.5", 22, files)).toEqual([openssh]);
    expect(filesListing("example.org", 22, files)).toEqual([own]);
    expect(knownKeyTypes("10.0.0.5", 22, files)).toEqual(["ssh-ed25519"]);
    expect(knownKeyTypes("10.0.0.6", 22, files)).toEqual([]);
  });
});

describe("recordHostKey", () => {
  test("creates the directory 0700 and the file 0600; `host` for port 22, `[host]:port` otherwise", async () => {
    const dir = tempDir();
    const file = join(dir, "state", "dockernet", "known_hosts");
    await recordHostKey(file, "10.0.0.5", 22, realKey, "ssh-ed25519");
    await recordHostKey(file, "[::1]", 2222, key, "ssh-ed25519");
    expect(readFileSync(file, "utf8")).toBe(`10.0.0.5 ssh-ed25519 ${realKey.toString("base64")}\n[::1]:2222 ssh-ed25519 ${b64}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "state", "dockernet")).mode & 0o777).toBe(0o700);
    expect(checkHostKey("10.0.0.5", 22, realKey, [file])).toBe("known");
    expect(checkHostKey("::1", 2222, key, [file])).toBe("known");
  });

  test("appends to an existing file, on a line of its own", async () => {
    const file = join(tempDir(), "known_hosts");
    writeFileSync(file, `example.org ssh-ed25519 ${b64}`, { mode: 0o644 });
    await recordHostKey(file, "10.0.0.5", 22, other, "ssh-ed25519");
    expect(readFileSync(file, "utf8")).toBe(`example.org ssh-ed25519 ${b64}\n10.0.0.5 ssh-ed25519 ${other.toString("base64")}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o644); // an existing file keeps its mode
  });

  test("refuses what would corrupt the file", async () => {
    const file = join(tempDir(), "known_hosts");
    await expect(recordHostKey(file, "a b", 22, key, "ssh-ed25519")).rejects.toThrow("bad host");
    await expect(recordHostKey(file, "h", 22, key, "ssh-ed25519 x")).rejects.toThrow("bad SSH key type");
  });
});

describe("forgetting a destroyed server's key", () => {
  test("only the lines that list exactly that key for that host:port go; the others stay, the file stays 0600", async () => {
    const dir = scratch();
    const file = join(dir, "known_hosts");
    const [gone, other] = [Buffer.from("gone-key"), Buffer.from("other-key")];
    await recordHostKey(file, "203.0.113.5", 22, gone, "ssh-ed25519");
    await recordHostKey(file, "203.0.113.5", 2222, gone, "ssh-ed25519");
    await recordHostKey(file, "203.0.113.6", 22, gone, "ssh-ed25519");
    await recordHostKey(file, "203.0.113.5", 22, other, "ssh-ed25519");
    expect(await forgetHostKey(file, "203.0.113.5", 22, gone)).toBe(1);
    expect(checkHostKey("203.0.113.5", 22, gone, [file])).toBe("changed");
    expect(checkHostKey("203.0.113.5", 2222, gone, [file])).toBe("known");
    expect(checkHostKey("203.0.113.6", 22, gone, [file])).toBe("known");
    expect(checkHostKey("203.0.113.5", 22, other, [file])).toBe("known");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await forgetHostKey(join(dir, "absent"), "203.0.113.5", 22, gone)).toBe(0);
  });
});
