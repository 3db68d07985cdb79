// The bridge's LinkSupervisor (src/modes/bridge/link/supervisor.ts): how it reconnects, parks and makes
// Docker connections wait. The SSH link is played by a small object with SshLink's surface the
// supervisor uses (SupervisedLink: `closed`, `close()`, `where`): the supervisor is what is under
// test, not ssh2. Time is a clock the test moves (test/support/bridge-clock.ts): the delays and
// deadlines asserted are exact, however busy the machine. Parking for an idle destroy goes through
// the ServerLifecycle, as in the daemon.
import { describe, expect, test } from "bun:test";
import { LinkSupervisor, type ConnectSteps, type LinkOptions, type SupervisedLink } from "../../src/modes/bridge/link/supervisor.ts";
import { ServerLifecycle } from "../../src/modes/bridge/server/lifecycle.ts";
import type { Provider, ServerInfo } from "../../src/modes/bridge/server/providers/types.ts";
import { ManualClock } from "../support/bridge-clock.ts";
import { fakeLogger } from "../support/fake-logger.ts";

/** An SSH connection as the supervisor sees it: it closes when told, or when the "server" drops it. */
class FakeLink implements SupervisedLink {
  readonly where = "root@server:22";
  readonly closed: Promise<{ reason: string }>;
  isClosed = false;
  #resolve!: (value: { reason: string }) => void;

  constructor(readonly id: number) {
    this.closed = new Promise((resolve) => (this.#resolve = resolve));
  }

  close(reason = "closed by dockernet"): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#resolve({ reason });
  }
}

/** A provider whose server is always there at once (what matters here is the destroy being asked for). */
class InstantProvider implements Provider {
  readonly name = "instant";
  readonly createsServers = true;
  readonly server: ServerInfo = { name: "server-1", host: "10.0.0.1", port: 22, user: "root", createdByBridge: true };

  async ensure(): Promise<ServerInfo> {
    return this.server;
  }

  async destroy(): Promise<void> {}

  async list() {
    return [];
  }

  async destroyNamed() {}
}

/** A promise resolved from outside. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * A supervisor on a manual clock whose `connect` is `step` (given each new FakeLink), through a
 * ServerLifecycle as the daemon's is; it records the links and when each was made.
 */
function supervise(step: (link: FakeLink, steps: ConnectSteps, clock: ManualClock) => Promise<void> | void, options: Partial<LinkOptions<FakeLink>> = {}) {
  const links: FakeLink[] = [];
  const times: number[] = [];
  const log = fakeLogger();
  const clock = new ManualClock();
  const servers = new ServerLifecycle(new InstantProvider(), log);
  const supervisor = new LinkSupervisor<FakeLink>({
    log,
    connectTimeoutMs: 1000,
    backoff: { initialMs: 20, maxMs: 160 },
    clock,
    ...options,
    connect: (steps) =>
      servers.connect(async () => {
        const link = new FakeLink(links.length + 1);
        links.push(link);
        times.push(clock.now());
        await step(link, steps, clock);
        return link;
      }),
  });
  /** The idle destroy, as the daemon does it: park the link, then destroy its server. */
  const idleDestroy = () => {
    supervisor.park();
    return servers.destroy();
  };
  return { supervisor, links, times, log, clock, idleDestroy };
}

/** A wait of `ms` on the test's clock. */
const wait = (clock: ManualClock, ms: number) => new Promise<void>((resolve) => clock.after(ms, resolve));

/** Moves the clock until `promise` settles: its outcome, and the clock time it settled at. */
async function outcome<T>(clock: ManualClock, promise: Promise<T>): Promise<{ value?: T; error?: unknown; at: number }> {
  let settled: { value?: T; error?: unknown; at: number } | undefined;
  promise.then((value) => (settled = { value, at: clock.now() }), (error: unknown) => (settled = { error, at: clock.now() }));
  await clock.until(() => settled !== undefined, { stepMs: 10 });
  return settled!;
}

const gaps = (times: number[]) => times.slice(1).map((time, i) => time - (times[i] as number));

describe("reconnecting", () => {
  test("a server that accepts SSH and drops it at once is reconnected with growing delays, not once per drop", async () => {
    const { supervisor, links, times, clock } = supervise((link, _steps, clock) => void clock.after(5, () => link.close("the server closed the connection")), { stableMs: 10_000 });
    await supervisor.start();
    await clock.advance(700);
    supervisor.stop();
    // 20, 40, 80, 160, 160... ms apart (less up to 20 % jitter): about 7 in 700 ms; without a backoff, a hundred.
    expect(links.length).toBeGreaterThanOrEqual(4);
    expect(links.length).toBeLessThanOrEqual(10);
    const apart = gaps(times);
    expect(apart[0]).toBeGreaterThanOrEqual(16);
    expect(apart[3]).toBeGreaterThanOrEqual(100);
  });

  test("the backoff starts over only once a link stayed up stableMs: then the next reconnect is at once", async () => {
    const { supervisor, links, times, clock } = supervise(() => {}, { stableMs: 150, backoff: { initialMs: 200, maxMs: 800 } });
    await supervisor.start();
    links[0]!.close("dropped after a moment");
    await clock.until(() => supervisor.link !== undefined && links.length === 2);
    expect(gaps(times)[0]).toBeGreaterThanOrEqual(150); // link 1 lived < stableMs: a delay first
    await clock.advance(250); // link 2 lives longer than stableMs
    const lost = clock.now();
    links[1]!.close("dropped after a while");
    await clock.until(() => supervisor.link !== undefined && links.length === 3);
    expect((times[2] as number) - lost).toBeLessThan(100);
    supervisor.stop();
  });

  test("parked while a reconnect's connect runs: the new link is closed, not used", async () => {
    const gate = deferred<void>();
    let calls = 0;
    const { supervisor, links, clock, idleDestroy } = supervise(async () => {
      if (++calls === 2) await gate.promise;
    });
    await supervisor.start();
    links[0]!.close("lost");
    await clock.until(() => links.length === 2);
    void idleDestroy(); // the idle destroy of the server that connect is reaching
    gate.resolve();
    await clock.until(() => links[1]!.isClosed);
    await clock.advance(50);
    expect(supervisor.link).toBeUndefined();
    expect(supervisor.status().connected).toBe(false);
    expect(links).toHaveLength(2);
    supervisor.stop();
  });

  test("parked and woken again while connect ran: that connect's link (to the destroyed server) is dropped, a new one made", async () => {
    const gate = deferred<void>();
    let calls = 0;
    const { supervisor, links, clock, idleDestroy } = supervise(async () => {
      if (++calls === 2) await gate.promise;
    });
    await supervisor.start();
    links[0]!.close("lost");
    await clock.until(() => links.length === 2);
    void idleDestroy();
    const acquired = supervisor.acquire(); // the next Docker client
    gate.resolve();
    const link = await acquired;
    expect(links[1]!.isClosed).toBe(true);
    expect(link.id).toBe(3);
    expect(supervisor.link).toBe(link);
    supervisor.stop();
  });
});

describe("Docker connections waiting for the link", () => {
  test("while the server is being created they wait up to createTimeoutMs, not connectTimeoutMs, and the log says so", async () => {
    let creating = false;
    const { supervisor, log, clock } = supervise(async (_link, steps, clock) => {
      if (creating) await steps.creating(() => wait(clock, 300));
    }, { connectTimeoutMs: 100, createTimeoutMs: 5000 });
    await supervisor.start();
    supervisor.park(); // destroyed for idleness: the next connect creates a server
    creating = true;
    const before = clock.now();
    const { value: link, at } = await outcome(clock, supervisor.acquire());
    expect(at - before).toBeGreaterThanOrEqual(280);
    expect(link).toBe(supervisor.link!);
    expect(log.lines.find((line) => line.message === "a Docker connection waits for the server to be created")?.fields).toMatchObject({ up_to_s: 5 });
    supervisor.stop();
  });

  test("a create that takes longer than createTimeoutMs: the waiter is closed with that reason", async () => {
    let creating = false;
    const { supervisor, clock } = supervise(async (_link, steps, clock) => {
      if (creating) await steps.creating(() => wait(clock, 600));
    }, { connectTimeoutMs: 50, createTimeoutMs: 200 });
    await supervisor.start();
    supervisor.park();
    creating = true;
    const before = clock.now();
    const { error, at } = await outcome(clock, supervisor.acquire());
    expect(error).toMatchObject({ code: "BRIDGE_LINK_DOWN", message: expect.stringContaining("the server is still being created after 0.2 s") });
    expect(at - before).toBeGreaterThanOrEqual(190);
    expect(at - before).toBeLessThan(500);
    supervisor.stop();
  });

  test("once the server exists, connectTimeoutMs counts again, from the end of the create", async () => {
    let creating = false;
    const { supervisor, clock } = supervise(async (_link, steps, clock) => {
      if (!creating) return;
      await steps.creating(() => wait(clock, 200));
      await wait(clock, 2000); // SSH does not answer
    }, { connectTimeoutMs: 150, createTimeoutMs: 5000 });
    await supervisor.start();
    supervisor.park();
    creating = true;
    const before = clock.now();
    const { error, at } = await outcome(clock, supervisor.acquire());
    expect(error).toMatchObject({ code: "BRIDGE_LINK_DOWN", message: expect.stringContaining("the SSH link is not up after 0.2 s") });
    const waited = at - before;
    expect(waited).toBeGreaterThanOrEqual(330);
    expect(waited).toBeLessThan(1000);
    supervisor.stop();
  });

  test("reconnecting an existing server: connectTimeoutMs applies", async () => {
    let slow = false;
    const { supervisor, links, clock } = supervise(async (_link, _steps, clock) => {
      if (slow) await wait(clock, 1000);
    }, { connectTimeoutMs: 100, createTimeoutMs: 5000 });
    await supervisor.start();
    slow = true;
    links[0]!.close("lost");
    await clock.until(() => supervisor.link === undefined);
    const before = clock.now();
    const { error, at } = await outcome(clock, supervisor.acquire());
    expect(error).toMatchObject({ code: "BRIDGE_LINK_DOWN" });
    expect(at - before).toBeLessThan(400);
    supervisor.stop();
  });

  test("stop() closes the link and turns waiters away", async () => {
    let slow = false;
    const { supervisor, links, clock } = supervise(async (_link, _steps, clock) => {
      if (slow) await wait(clock, 5000);
    });
    await supervisor.start();
    slow = true;
    links[0]!.close("lost");
    await clock.until(() => supervisor.link === undefined);
    const waiting = [supervisor.acquire(), supervisor.whenUp()].map((wait) => wait.then(() => "up", (error: { code?: string }) => error.code));
    supervisor.stop();
    expect(await Promise.all(waiting)).toEqual(["BRIDGE_STOPPING", "BRIDGE_STOPPING"]);
  });
});
