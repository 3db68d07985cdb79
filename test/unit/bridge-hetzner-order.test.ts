// The hetzner provider's ensure and destroy in the order the bridge asks for them, against the
// local Hetzner API fake (test/support/hetzner-fake.ts: the endpoints the provider uses, as
// Hetzner's public documentation describes them; the real API cannot be reached from here). An
// idle destroy and the next Docker client's ensure can be asked for at the same moment.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bridgeSection, type BridgeConfig } from "../../src/modes/bridge/config.ts";
import { generateEd25519 } from "../../src/modes/bridge/providers/_ssh-key-format.ts";
import { hetznerProvider } from "../../src/modes/bridge/providers/hetzner.ts";
import { HetznerFake } from "../support/hetzner-fake.ts";
import { fakeLogger } from "../support/fake-logger.ts";


/** Loopback, but not 127.0.0.1: the address the provider connects to can only come from the fake. */
const SERVER_IP = "127.0.0.2";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The fake API (its actions a little slow, so that steps overlap), an "sshd" port, and the provider. */
async function scenario() {
  const fake = await HetznerFake.start({ serverIp: SERVER_IP, actionDelayMs: 100 });
  cleanups.push(() => fake.close());
  const sshd: Server = createServer((socket) => socket.end("SSH-2.0-fake\r\n"));
  await new Promise<void>((resolve, reject) => sshd.once("error", reject).listen(0, SERVER_IP, () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => sshd.close(() => resolve())));
  const dir = mkdtempSync(join(tmpdir(), "hetzner-order-test-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const identity = join(dir, "id_ed25519");
  const userKey = generateEd25519("dev@laptop");
  writeFileSync(identity, userKey.privateOpenssh, { mode: 0o600 });
  writeFileSync(`${identity}.pub`, `${userKey.publicLine}\n`);
  const port = (sshd.address() as { port: number }).port;
  const config: BridgeConfig = { ...bridgeSection.defaults, hetzner_token: fake.token, hetzner_endpoint: fake.endpoint, identity, host: `ssh://root@server:${port}` };
  const provider = hetznerProvider(config, { pollIntervalMs: 10, sshRetryMs: 50, sshTimeoutMs: 5000, retry: { initialMs: 20, maxMs: 100 } });
  return { fake, provider, log: fakeLogger() };
}

const serverIds = (fake: HetznerFake) => [...fake.servers.keys()];
const creates = (fake: HetznerFake) => fake.callNames().filter((call) => call === "POST /servers").length;

describe("hetzner provider: ensure and destroy, one at a time", () => {
  test("an ensure asked for while a destroy runs waits for it, then creates a new server", async () => {
    const { fake, provider, log } = await scenario();
    await provider.ensure(log);
    const [first] = serverIds(fake);

    const destroyed = provider.destroy(log);
    const ensured = provider.ensure(log);
    await destroyed;
    const server = await ensured;

    expect(server.name).toBe("dockernet-bridge");
    expect(creates(fake)).toBe(2);
    expect(serverIds(fake)).toHaveLength(1);
    expect(serverIds(fake)[0]).not.toBe(first);
    const calls = fake.callNames();
    expect(calls.lastIndexOf("POST /servers")).toBeGreaterThan(calls.indexOf(`DELETE /servers/${first}`));
  });

  test("an ensure asked for after a destroy does not share an ensure asked for before it", async () => {
    const { fake, provider, log } = await scenario();
    const before = provider.ensure(log);
    const destroyed = provider.destroy(log);
    const after = provider.ensure(log);
    await before;
    await destroyed;
    await after;
    expect(creates(fake)).toBe(2);
    expect(serverIds(fake)).toHaveLength(1);
    expect(fake.callNames().filter((call) => /^DELETE \/servers\/\d+$/.test(call))).toHaveLength(1);
  });

  test("a destroy asked for while an ensure creates the server waits for it, then destroys that server", async () => {
    const { fake, provider, log } = await scenario();
    const ensured = provider.ensure(log);
    const destroyed = provider.destroy(log);
    await ensured;
    await destroyed;
    expect(creates(fake)).toBe(1);
    expect(serverIds(fake)).toEqual([]);
    expect(log.lines.some((line) => line.message === "no server to destroy")).toBe(false);
  });

  test("ensures asked for together share one (one server), and a failed destroy does not block the next ensure", async () => {
    const { fake, provider, log } = await scenario();
    const [one, two] = await Promise.all([provider.ensure(log), provider.ensure(log)]);
    expect(one).toEqual(two);
    expect(creates(fake)).toBe(1);
    fake.failNext("GET /servers", 401, { times: 1 });
    await expect(provider.destroy(log)).rejects.toMatchObject({ code: "HETZNER_UNAUTHORIZED" });
    expect((await provider.ensure(log)).name).toBe("dockernet-bridge");
    expect(creates(fake)).toBe(1);
  });
});
