// Which key the bridge logs in with (src/ssh/key-choice.ts): --identity, else the agent, else
// ~/.ssh/id_ed25519, else id_rsa; with a provider that creates servers, the key files before the
// agent (the new server trusts the file's public half). Real files in a temporary home.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseKey } from "../../src/ssh/key-choice.ts";

const root = mkdtempSync(join(tmpdir(), "key-choice-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A home whose ~/.ssh holds `files` (name -> content). */
function home(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, "home-"));
  mkdirSync(join(dir, ".ssh"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, ".ssh", name), content);
  return dir;
}

const agent = { SSH_AUTH_SOCK: "/run/agent.sock" };

describe("choosing the SSH key", () => {
  test("--identity wins; an unreadable one is a usage error naming it", async () => {
    const dir = home({ id_ed25519: "ed" });
    writeFileSync(join(dir, "mine"), "mine");
    expect(await chooseKey({ identity: join(dir, "mine"), filesFirst: false, env: agent, home: dir })).toEqual({ privateKey: Buffer.from("mine") });
    const missing = join(dir, "nope");
    await expect(chooseKey({ identity: missing, filesFirst: false, env: agent, home: dir })).rejects.toMatchObject({ code: "USAGE", exitCode: 2, message: `cannot read the identity file ${missing}: no such file` });
  });

  test("an existing host: the agent first, as ssh does; then id_ed25519, then id_rsa", async () => {
    expect(await chooseKey({ identity: "", filesFirst: false, env: agent, home: home({ id_ed25519: "ed" }) })).toEqual({ agent: "/run/agent.sock" });
    expect(await chooseKey({ identity: "", filesFirst: false, env: {}, home: home({ id_ed25519: "ed", id_rsa: "rsa" }) })).toEqual({ privateKey: Buffer.from("ed") });
    expect(await chooseKey({ identity: "", filesFirst: false, env: {}, home: home({ id_rsa: "rsa" }) })).toEqual({ privateKey: Buffer.from("rsa") });
  });

  test("a server the provider creates: the key files before the agent, the agent when there is none", async () => {
    expect(await chooseKey({ identity: "", filesFirst: true, env: agent, home: home({ id_rsa: "rsa" }) })).toEqual({ privateKey: Buffer.from("rsa") });
    expect(await chooseKey({ identity: "", filesFirst: true, env: agent, home: home({}) })).toEqual({ agent: "/run/agent.sock" });
  });

  test("no key anywhere: a usage error saying where it looked", async () => {
    await expect(chooseKey({ identity: "", filesFirst: false, env: {}, home: home({}) })).rejects.toMatchObject({ code: "USAGE", message: expect.stringContaining("no SSH agent (SSH_AUTH_SOCK), no ~/.ssh/id_ed25519 or id_rsa") });
  });
});
