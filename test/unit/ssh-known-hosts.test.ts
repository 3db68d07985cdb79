import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostKeyVerifier, knownKeys } from "../../src/ssh/known-hosts.ts";

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
    const dir = mkdtempSync(join(tmpdir(), "dockernet-kh-"));
    const file = join(dir, "known_hosts");
    writeFileSync(file, `10.0.0.5 ssh-ed25519 ${b64}\n`);
    const verify = hostKeyVerifier("10.0.0.5", 22, [join(dir, "missing"), file]);
    expect(verify(key)).toBe(true);
    expect(verify(other)).toBe(false);
    expect(hostKeyVerifier("10.0.0.5", 22, [join(dir, "missing")])(key)).toBe(false);
  });
});
