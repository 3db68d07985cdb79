// A failed start cleans up what it created (src/modes/bridge/server/lifecycle.ts), against the local
// Hetzner API (test/support/hetzner-fake.ts): a server whose SSH never answers within create_timeout,
// a create stopped by a signal, a start that fails after the create; --keep-on-failure keeps it.
import { afterEach, describe, expect, test } from "bun:test";
import { ServerLifecycle } from "../../src/modes/bridge/server/lifecycle.ts";
import { freeSshPort, hetznerScenario, type Cleanups } from "../support/hetzner-scenario.ts";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A scenario whose "server" never answers SSH: nothing listens on its port. */
async function silentServer(createTimeoutMs: number) {
  const sshPort = await freeSshPort();
  return await hetznerScenario(cleanups, { sshPort, config: { create_timeout: createTimeoutMs, shutdown_timeout: 2000 }, provider: { sshTimeoutMs: undefined, sshRetryMs: 50 } });
}

const errorsLogged = (log: { lines: { level: string; message: string; fields?: Record<string, unknown> }[] }) => log.lines.filter((line) => line.level === "error" || line.level === "warn");

describe("a failed start deletes the server it created", () => {
  test("SSH never answers within create_timeout: the server is shut down and deleted, the log names it and why", async () => {
    const { fake, provider, log } = await silentServer(300);
    const servers = new ServerLifecycle(provider, log);
    const started = Date.now();
    await expect(servers.ensure()).rejects.toMatchObject({ code: "HETZNER_SSH_TIMEOUT" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(fake.servers.size).toBe(0);
    const id = fake.calls.find((call) => call.call === "POST /servers")!;
    expect(id.status).toBe(201);
    expect(fake.callNames()).toContainEqual(expect.stringMatching(/^POST \/servers\/\d+\/actions\/shutdown$/));
    const [line] = errorsLogged(log);
    expect(line).toMatchObject({ level: "error", message: "the start failed; deleting the server it created", fields: { name: "dockernet-bridge", id: expect.stringMatching(/^\d+$/), reason: expect.stringContaining("did not answer within") } });
  });

  test("a signal while the server is being created stops the wait at once and deletes it", async () => {
    const { fake, provider, log } = await silentServer(60_000);
    const stop = new AbortController();
    const servers = new ServerLifecycle(provider, log, { signal: stop.signal });
    const ensuring = servers.ensure();
    while (!log.lines.some((line) => line.message === "waiting for SSH")) await Bun.sleep(10);
    const signalled = Date.now();
    stop.abort("SIGTERM");
    await expect(ensuring).rejects.toMatchObject({ code: "BRIDGE_CREATE_INTERRUPTED" });
    expect(Date.now() - signalled).toBeLessThan(2000);
    expect(fake.servers.size).toBe(0);
    expect(errorsLogged(log)[0]?.fields?.reason).toContain("SIGTERM");
    // Stopped: no ensure creates another.
    await expect(servers.ensure()).rejects.toMatchObject({ code: "BRIDGE_CREATE_INTERRUPTED" });
    expect(fake.callNames().filter((call) => call === "POST /servers")).toHaveLength(1);
  });

  test("a start that fails after the create (login, Docker) deletes it; a confirmed start's server stays", async () => {
    const { fake, provider, log } = await hetznerScenario(cleanups);
    const servers = new ServerLifecycle(provider, log);
    await servers.ensure();
    await servers.failedStart(new Error("Docker did not answer on /var/run/docker.sock"));
    expect(fake.servers.size).toBe(0);

    await servers.ensure();
    servers.confirmed();
    await servers.failedStart(new Error("a later failure"));
    expect(fake.servers.size).toBe(1);
  });

  test("--keep-on-failure keeps it and says so", async () => {
    const { fake, provider, log } = await silentServer(200);
    const servers = new ServerLifecycle(provider, log, { keepOnFailure: true });
    await expect(servers.ensure()).rejects.toMatchObject({ code: "HETZNER_SSH_TIMEOUT" });
    expect(fake.servers.size).toBe(1);
    expect(fake.callNames().some((call) => call.startsWith("DELETE"))).toBe(false);
    expect(errorsLogged(log).map((line) => line.message)).toEqual(["the start failed; the server it created is kept (--keep-on-failure): remove it with dockernet bridge server destroy"]);
  });
});
