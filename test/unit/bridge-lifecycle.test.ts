// The order of ensure and destroy, and the server the bridge shows in `status` while servers are
// destroyed and created again (src/modes/bridge/server/lifecycle.ts). The provider is a small
// implementation of the Provider interface kept here, whose calls the test finishes when it wants.
import { describe, expect, test } from "bun:test";
import { sleep } from "../../src/core/backoff.ts";
import { ServerLifecycle } from "../../src/modes/bridge/server/lifecycle.ts";
import type { Provider, ServerInfo } from "../../src/modes/bridge/server/providers/types.ts";
import { fakeLogger } from "../support/fake-logger.ts";

/** A provider whose ensure and destroy calls wait until the test settles them. */
class FakeProvider implements Provider {
  readonly name = "hetzner" as const;
  readonly createsServers = true;
  readonly calls: { what: "ensure" | "destroy"; settle(error?: Error): void }[] = [];
  #made = 0;

  ensure(): Promise<ServerInfo> {
    return new Promise((resolve, reject) => {
      const server: ServerInfo = { name: `server-${++this.#made}`, host: "10.0.0.1", port: 22, user: "root", createdByBridge: true };
      this.calls.push({ what: "ensure", settle: (error) => (error ? reject(error) : resolve(server)) });
    });
  }

  destroy(): Promise<void> {
    return new Promise((resolve, reject) => this.calls.push({ what: "destroy", settle: (error) => (error ? reject(error) : resolve()) }));
  }

  async list() {
    return [];
  }

  async destroyNamed() {}

  /** Settles the oldest unsettled call of that kind (made by now, or in a few ticks: the lifecycle queues its calls). */
  async settle(what: "ensure" | "destroy", error?: Error): Promise<void> {
    let index = this.calls.findIndex((call) => call.what === what);
    for (let ticks = 0; index < 0 && ticks < 5; ticks++, index = this.calls.findIndex((call) => call.what === what)) await tick();
    if (index < 0) throw new Error(`no ${what} call is waiting`);
    this.calls.splice(index, 1)[0]!.settle(error);
  }
}

const tick = () => sleep(1);

/** A lifecycle whose first server (`server-1`) is made and running. */
async function running() {
  const provider = new FakeProvider();
  const servers = new ServerLifecycle(provider, fakeLogger());
  const first = servers.ensure();
  await provider.settle("ensure");
  await first;
  return { provider, servers };
}

describe("the server status shows, through destroy and create", () => {
  test("set by an ensure, cleared by a destroy; a server is missing before the first and after a destroy", async () => {
    const provider = new FakeProvider();
    const servers = new ServerLifecycle(provider, fakeLogger());
    expect(servers.missing).toBe(true);
    const ensured = servers.ensure();
    await provider.settle("ensure");
    expect((await ensured).name).toBe("server-1");
    expect(servers.current?.name).toBe("server-1");
    expect(servers.missing).toBe(false);
    const destroyed = servers.destroy();
    expect(servers.missing).toBe(true); // being destroyed: the next ensure creates one
    await provider.settle("destroy");
    await destroyed;
    expect(servers.current).toBeUndefined();
  });

  test("an ensure asked for after a destroy waits for it, then shows the new server", async () => {
    const { provider, servers } = await running();
    const destroyed = servers.destroy();
    const second = servers.ensure(); // asked for after the destroy: its server is a new one
    await tick();
    expect(provider.calls.map((call) => call.what)).toEqual(["destroy"]); // not beside the destroy
    await provider.settle("destroy");
    await destroyed;
    await tick();
    await provider.settle("ensure");
    expect((await second).name).toBe("server-2");
    expect(servers.current?.name).toBe("server-2");
  });

  test("an ensure asked for before a destroy returns the server being destroyed: refused, and not shown", async () => {
    const { provider, servers } = await running();
    const reconnect = servers.ensure(); // a reconnect, still on its way
    const destroyed = servers.destroy();
    await tick();
    await provider.settle("ensure");
    await expect(reconnect).rejects.toMatchObject({ code: "BRIDGE_SERVER_DESTROYED" });
    await provider.settle("destroy");
    await destroyed;
    expect(servers.current).toBeUndefined();
  });

  test("a failed destroy keeps the server shown (it is still there)", async () => {
    const { provider, servers } = await running();
    const destroyed = servers.destroy();
    await provider.settle("destroy", new Error("HTTP 503"));
    await expect(destroyed).rejects.toThrow("HTTP 503");
    expect(servers.current?.name).toBe("server-1");
    const again = servers.ensure();
    await provider.settle("ensure");
    expect((await again).name).toBe("server-2");
    expect(servers.missing).toBe(false);
  });
});

describe("connections to the lifecycle's server", () => {
  test("a connection opened on a server a destroy was asked for meanwhile is closed and refused", async () => {
    const { provider, servers } = await running();
    let closed = false;
    let reached: string | undefined;
    let loggedIn!: () => void;
    const login = new Promise<void>((resolve) => (loggedIn = resolve));
    const connecting = servers.connect(async (server) => {
      reached = server.name;
      await login;
      return { close: () => void (closed = true) };
    });
    await provider.settle("ensure");
    await tick(); // connect has its server (the running one) and is logging in
    const destroyed = servers.destroy();
    loggedIn();
    await expect(connecting).rejects.toMatchObject({ code: "BRIDGE_SERVER_DESTROYED" });
    expect(reached).toBe("server-2");
    expect(closed).toBe(true);
    await provider.settle("destroy");
    await destroyed;
  });

  test("a connection made while the server is created runs that step in `creating`; none after it exists", async () => {
    const provider = new FakeProvider();
    const servers = new ServerLifecycle(provider, fakeLogger());
    const steps: string[] = [];
    const creating = async <R>(step: () => Promise<R>) => {
      steps.push("creating");
      return await step();
    };
    const open = async (server: ServerInfo) => ({ server, close() {} });
    const made = servers.connect(open, { creating });
    await tick();
    await provider.settle("ensure");
    expect((await made).server.name).toBe("server-1");
    const again = servers.connect(open, { creating });
    await tick();
    await provider.settle("ensure");
    await again;
    expect(steps).toEqual(["creating"]);
  });
});
