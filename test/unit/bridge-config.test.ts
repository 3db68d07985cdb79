// The provider's own block `[bridge.hetzner]` (src/config/spec.ts `block`): read from TOML,
// DOCKERNET_BRIDGE_HETZNER_<KEY> and defaults into config.bridge.hetzner, each key with its source.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderResolved } from "../../src/config/render.ts";
import { configSpec, loadConfig } from "../../src/modes/config.ts";

const dir = mkdtempSync(join(tmpdir(), "dockernet-bridge-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Hermetic: only the given env and file. */
function load(toml: string, env: Record<string, string> = {}) {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, toml);
  return loadConfig({ file, env, defaultFile: join(dir, "absent.toml") });
}

describe("[bridge.hetzner]", () => {
  test("a TOML table [bridge.hetzner] beside [bridge]; env beats it, key by key; the rest are defaults", async () => {
    const resolved = await load('[bridge]\nprovider = "hetzner"\n\n[bridge.hetzner]\nserver_type = "cpx11"\nlocation = "nbg1"\n', { DOCKERNET_BRIDGE_HETZNER_LOCATION: "hel1", DOCKERNET_BRIDGE_HETZNER_VOLUME_SIZE: "40" });
    expect(resolved.config.bridge.provider).toBe("hetzner");
    expect(resolved.config.bridge.hetzner).toEqual({ token: "", endpoint: "", server_name: "dockernet-bridge", server_type: "cpx11", location: "hel1", image: "debian-12", volume_size: 40, host_key_file: "/etc/ssh/ssh_host_ed25519_key", sshd_pid_file: "/run/sshd.pid" });
    expect(resolved.sources).toMatchObject({ "bridge.provider": "file", "bridge.hetzner.server_type": "file", "bridge.hetzner.location": "env", "bridge.hetzner.volume_size": "env", "bridge.hetzner.image": "default" });
  });

  test("the keys that moved are unknown in [bridge], and an unknown key of the block is named with its path", async () => {
    const error = await load('[bridge]\nserver_type = "cx22"\n\n[bridge.hetzner]\nsize = 1\n', { DOCKERNET_BRIDGE_SERVER_NAME: "x", DOCKERNET_BRIDGE_HETZNER_NOPE: "y" }).then(() => undefined, (thrown: Error & { hint?: string }) => thrown);
    expect(error?.message).toContain("bridge.server_type: unknown key, did you mean bridge.hetzner.server_type?");
    expect(error?.message).toContain("bridge.hetzner.size: unknown key");
    expect(error?.message).toContain("bridge.server_name: unknown key, did you mean bridge.hetzner.server_name? (from env DOCKERNET_BRIDGE_SERVER_NAME)");
    expect(error?.message).toContain("bridge.hetzner.nope: unknown key (from env DOCKERNET_BRIDGE_HETZNER_NOPE)");
    expect(error?.hint).toContain("[bridge.hetzner] token, endpoint, server_name, server_type, location, image, volume_size");
  });

  test("a bad value in the block is named with its path; a block that is not a table is refused", async () => {
    const bad = await load("[bridge.hetzner]\nvolume_size = 5\n").then(() => undefined, (thrown: Error) => thrown);
    expect(bad?.message).toContain("bridge.hetzner.volume_size: must be at least 10 (GB)");
    const scalar = await load('[bridge]\nhetzner = "x"\n').then(() => undefined, (thrown: Error) => thrown);
    expect(scalar?.message).toContain("bridge.hetzner: must be a table [bridge.hetzner]");
  });

  test("config validate writes it back as the table it was read from", async () => {
    const text = renderResolved(configSpec, await load('[bridge.hetzner]\nimage = "debian-13"\n'));
    expect(text).toContain('\n[bridge.hetzner]\ntoken = ""  # default\nendpoint = ""  # default\nserver_name = "dockernet-bridge"  # default\nserver_type = "cx22"  # default\nlocation = "fsn1"  # default\nimage = "debian-13"  # file ');
  });
});
