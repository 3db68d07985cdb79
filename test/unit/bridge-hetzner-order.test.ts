// The order of ensure and destroy (src/modes/bridge/server/lifecycle.ts) with the hetzner
// provider, against the local Hetzner API fake (test/support/hetzner-fake.ts: the endpoints the
// provider uses, as Hetzner's public documentation describes them; the real API cannot be reached
// from here). An idle destroy and the next Docker client's ensure can be asked for at the same moment.
import { afterEach, describe, expect, test } from "bun:test";
import { ServerLifecycle } from "../../src/modes/bridge/server/lifecycle.ts";
import type { HetznerFake } from "../support/hetzner-fake.ts";
import { hetznerScenario, type Cleanups } from "../support/hetzner-scenario.ts";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The fake API (its actions a little slow, so that steps overlap), an "sshd" port, and the provider in a lifecycle. */
async function scenario() {
  const { fake, provider, log } = await hetznerScenario(cleanups, { actionDelayMs: 100 });
  return { fake, provider: new ServerLifecycle(provider, log), log };
}

const destroyed = { code: "BRIDGE_SERVER_DESTROYED" };

const serverIds = (fake: HetznerFake) => [...fake.servers.keys()];
const creates = (fake: HetznerFake) => fake.callNames().filter((call) => call === "POST /servers").length;

describe("hetzner servers: ensure and destroy, one at a time", () => {
  test("an ensure asked for while a destroy runs waits for it, then creates a new server", async () => {
    const { fake, provider, log } = await scenario();
    await provider.ensure();
    const [first] = serverIds(fake);

    const destroying = provider.destroy();
    const ensured = provider.ensure();
    await destroying;
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
    const before = provider.ensure();
    const destroying = provider.destroy();
    const after = provider.ensure();
    await expect(before).rejects.toMatchObject(destroyed); // its server is the destroyed one
    await destroying;
    await after;
    expect(creates(fake)).toBe(2);
    expect(serverIds(fake)).toHaveLength(1);
    expect(fake.callNames().filter((call) => /^DELETE \/servers\/\d+$/.test(call))).toHaveLength(1);
  });

  test("a destroy asked for while an ensure creates the server waits for it, then destroys that server", async () => {
    const { fake, provider, log } = await scenario();
    const ensured = provider.ensure();
    const destroying = provider.destroy();
    await expect(ensured).rejects.toMatchObject(destroyed); // it made the server, which is then destroyed
    await destroying;
    expect(creates(fake)).toBe(1);
    expect(serverIds(fake)).toEqual([]);
    expect(log.lines.some((line) => line.message === "no server to destroy")).toBe(false);
  });

  test("ensures asked for together share one (one server), and a failed destroy does not block the next ensure", async () => {
    const { fake, provider, log } = await scenario();
    const [one, two] = await Promise.all([provider.ensure(), provider.ensure()]);
    expect(one).toEqual(two);
    expect(creates(fake)).toBe(1);
    // The destroy's first call: the server it created, by id.
    fake.failNext(`GET /servers/${[...fake.servers.keys()][0]}`, 401, { times: 1 });
    await expect(provider.destroy()).rejects.toMatchObject({ code: "HETZNER_UNAUTHORIZED" });
    expect((await provider.ensure()).name).toBe("dockernet-bridge");
    expect(creates(fake)).toBe(1);
  });
});
