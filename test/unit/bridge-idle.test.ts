// Idle destroy (src/modes/bridge/idle.ts): the watch over the activity clock, and the server the
// bridge shows in `status` while servers are destroyed and created again. The provider is a small
// implementation of the Provider interface kept here, whose calls the test finishes when it wants.
import { describe, expect, test } from "bun:test";
import { sleep } from "../../src/core/backoff.ts";
import { ActivityClock } from "../../src/modes/bridge/activity.ts";
import { ServerKeeper, startIdleWatch } from "../../src/modes/bridge/idle.ts";
import type { Provider, ServerInfo } from "../../src/modes/bridge/providers/types.ts";
import { waitUntil } from "../support/wait.ts";
import { fakeLogger } from "../support/fake-logger.ts";



describe("the idle watch", () => {
  test("a failed destroy is retried with growing delays (not at every check) and reported once; then it succeeds", async () => {
    const log = fakeLogger();
    const attempts: number[] = [];
    const activity = new ActivityClock({ connectionTimeoutMs: 1000 });
    const watch = startIdleWatch({
      activity,
      idleTimeoutMs: 50,
      gracePeriodMs: 20,
      log,
      checkEveryMs: 5,
      retry: { initialMs: 40, maxMs: 200 },
      onIdle: async () => {
        attempts.push(Date.now());
        if (attempts.length <= 3) throw new Error("HTTP 503 from the cloud API");
      },
    });
    try {
      await waitUntil(() => log.lines.some((line) => line.message.startsWith("idle server destroyed")), 3000);
    } finally {
      watch.stop();
    }
    expect(attempts).toHaveLength(4);
    const apart = attempts.slice(1).map((time, i) => time - (attempts[i] as number));
    expect(apart[0]).toBeGreaterThanOrEqual(30); // 40 ms less jitter, not the 5 ms of a check
    expect(apart[2]).toBeGreaterThan(apart[0] as number);
    expect(log.lines.filter((line) => line.level === "error" || line.level === "warn").map((line) => line.message)).toEqual([
      "the server is idle and will be destroyed",
      "destroying the idle server failed; retrying",
    ]);
    expect(log.lines.filter((line) => line.message === "destroying the idle server")).toHaveLength(1);
  });

  test("after a failed destroy, activity resets the watch: the next idle period warns and destroys again at once", async () => {
    const log = fakeLogger();
    let attempts = 0;
    const activity = new ActivityClock({ connectionTimeoutMs: 1000 });
    const watch = startIdleWatch({
      activity,
      idleTimeoutMs: 60,
      gracePeriodMs: 20,
      log,
      checkEveryMs: 5,
      retry: { initialMs: 60_000, maxMs: 60_000 }, // no retry within this test: only activity brings it back
      onIdle: async () => {
        if (++attempts === 1) throw new Error("the API is down");
      },
    });
    try {
      await waitUntil(() => attempts === 1);
      activity.touch(); // the server (still there) is used again
      await waitUntil(() => attempts === 2, 2000);
      await waitUntil(() => log.lines.some((line) => line.message.startsWith("idle server destroyed")));
    } finally {
      watch.stop();
    }
    expect(log.lines.filter((line) => line.message === "the server is idle and will be destroyed")).toHaveLength(2);
  });

  test("a destroyed server is not destroyed again until the bridge was used", async () => {
    const log = fakeLogger();
    let destroys = 0;
    const activity = new ActivityClock({ connectionTimeoutMs: 1000 });
    const watch = startIdleWatch({ activity, idleTimeoutMs: 40, gracePeriodMs: 10, log, checkEveryMs: 5, onIdle: async () => void destroys++ });
    try {
      await waitUntil(() => destroys === 1);
      await sleep(150);
      expect(destroys).toBe(1);
      activity.touch();
      await waitUntil(() => destroys === 2);
    } finally {
      watch.stop();
    }
  });
});

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

  /** Settles the oldest unsettled call of that kind. */
  settle(what: "ensure" | "destroy", error?: Error): void {
    const index = this.calls.findIndex((call) => call.what === what);
    if (index < 0) throw new Error(`no ${what} call is waiting`);
    this.calls.splice(index, 1)[0]!.settle(error);
  }
}

const tick = () => sleep(1);

describe("the server status shows, through destroy and create", () => {
  test("set by an ensure, cleared by a destroy; a server is missing before the first and after a destroy", async () => {
    const provider = new FakeProvider();
    const servers = new ServerKeeper(provider, fakeLogger());
    expect(servers.missing).toBe(true);
    const ensured = servers.ensure();
    provider.settle("ensure");
    expect((await ensured).name).toBe("server-1");
    expect(servers.current?.name).toBe("server-1");
    expect(servers.missing).toBe(false);
    const destroyed = servers.destroy();
    expect(servers.missing).toBe(true); // being destroyed: the next ensure creates one
    provider.settle("destroy");
    await destroyed;
    expect(servers.current).toBeUndefined();
  });

  test("a destroy that ends after a newer ensure returned leaves the new server shown", async () => {
    const provider = new FakeProvider();
    const servers = new ServerKeeper(provider, fakeLogger());
    const first = servers.ensure();
    provider.settle("ensure");
    await first;
    const destroyed = servers.destroy();
    const second = servers.ensure(); // asked for after the destroy: its server is a new one
    await tick();
    provider.settle("ensure");
    expect((await second).name).toBe("server-2");
    provider.settle("destroy");
    await destroyed;
    expect(servers.current?.name).toBe("server-2");
  });

  test("an ensure asked for before a destroy returns the server being destroyed: refused, and not shown", async () => {
    const provider = new FakeProvider();
    const servers = new ServerKeeper(provider, fakeLogger());
    const first = servers.ensure();
    provider.settle("ensure");
    await first;
    const reconnect = servers.ensure(); // a reconnect, still on its way
    const destroyed = servers.destroy();
    await tick();
    provider.settle("ensure");
    await expect(reconnect).rejects.toMatchObject({ code: "BRIDGE_SERVER_DESTROYED" });
    provider.settle("destroy");
    await destroyed;
    expect(servers.current).toBeUndefined();
  });

  test("a failed destroy keeps the server shown (it is still there)", async () => {
    const provider = new FakeProvider();
    const servers = new ServerKeeper(provider, fakeLogger());
    const first = servers.ensure();
    provider.settle("ensure");
    await first;
    const destroyed = servers.destroy();
    provider.settle("destroy", new Error("HTTP 503"));
    await expect(destroyed).rejects.toThrow("HTTP 503");
    expect(servers.current?.name).toBe("server-1");
    const again = servers.ensure();
    provider.settle("ensure");
    expect((await again).name).toBe("server-2");
    expect(servers.missing).toBe(false);
  });
});
