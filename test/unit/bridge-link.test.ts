// The bridge's LinkSupervisor (src/modes/bridge/link.ts): how it reconnects, parks and makes
// Docker connections wait. The SSH link is played by a small object with SshLink's surface the
// supervisor uses (`closed`, `close()`, `where`): the supervisor is what is under test, not ssh2.
import { describe, expect, test } from "bun:test";
import { sleep } from "../../src/core/backoff.ts";
import { LinkSupervisor, type ConnectSteps, type LinkOptions } from "../../src/modes/bridge/link.ts";
import type { SshLink } from "../../src/ssh/connection.ts";
import { waitUntil } from "../support/wait.ts";
import { fakeLogger } from "../support/fake-logger.ts";


/** An SSH connection as the supervisor sees it: it closes when told, or when the "server" drops it. */
class FakeLink {
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

  get link(): SshLink {
    return this as unknown as SshLink;
  }
}

/** A promise resolved from outside. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/** A supervisor whose `connect` is `step` (given each new FakeLink); it records the links and when each was made. */
function supervise(step: (link: FakeLink, steps: ConnectSteps) => Promise<void> | void, options: Partial<LinkOptions> = {}) {
  const links: FakeLink[] = [];
  const times: number[] = [];
  const log = fakeLogger();
  const supervisor = new LinkSupervisor({
    log,
    connectTimeoutMs: 1000,
    backoff: { initialMs: 20, maxMs: 160 },
    ...options,
    connect: async (steps) => {
      const link = new FakeLink(links.length + 1);
      links.push(link);
      times.push(Date.now());
      await step(link, steps);
      return link.link;
    },
  });
  return { supervisor, links, times, log };
}

const gaps = (times: number[]) => times.slice(1).map((time, i) => time - (times[i] as number));

describe("reconnecting", () => {
  test("a server that accepts SSH and drops it at once is reconnected with growing delays, not once per drop", async () => {
    const { supervisor, links, times } = supervise((link) => void setTimeout(() => link.close("the server closed the connection"), 5), { stableMs: 10_000 });
    await supervisor.start();
    await sleep(700);
    supervisor.stop();
    // 20, 40, 80, 160, 160... ms apart (less up to 20 % jitter): about 7 in 700 ms; without a backoff, a hundred.
    expect(links.length).toBeGreaterThanOrEqual(4);
    expect(links.length).toBeLessThanOrEqual(10);
    const apart = gaps(times);
    expect(apart[0]).toBeGreaterThanOrEqual(16);
    expect(apart[3]).toBeGreaterThanOrEqual(100);
  });

  test("the backoff starts over only once a link stayed up stableMs: then the next reconnect is at once", async () => {
    const { supervisor, links, times } = supervise(() => {}, { stableMs: 150, backoff: { initialMs: 200, maxMs: 800 } });
    await supervisor.start();
    links[0]!.close("dropped after a moment");
    await waitUntil(() => supervisor.link !== undefined && links.length === 2);
    expect(gaps(times)[0]).toBeGreaterThanOrEqual(150); // link 1 lived < stableMs: a delay first
    await sleep(250); // link 2 lives longer than stableMs
    const lost = Date.now();
    links[1]!.close("dropped after a while");
    await waitUntil(() => supervisor.link !== undefined && links.length === 3);
    expect((times[2] as number) - lost).toBeLessThan(100);
    supervisor.stop();
  });

  test("parked while a reconnect's connect runs: the new link is closed, not used", async () => {
    const gate = deferred<void>();
    let calls = 0;
    const { supervisor, links } = supervise(async () => {
      if (++calls === 2) await gate.promise;
    });
    await supervisor.start();
    links[0]!.close("lost");
    await waitUntil(() => links.length === 2);
    supervisor.park(); // the idle destroy of the server that connect is reaching
    gate.resolve();
    await waitUntil(() => links[1]!.isClosed);
    await sleep(50);
    expect(supervisor.link).toBeUndefined();
    expect(supervisor.status().connected).toBe(false);
    expect(links).toHaveLength(2);
    supervisor.stop();
  });

  test("parked and woken again while connect ran: that connect's link (to the destroyed server) is dropped, a new one made", async () => {
    const gate = deferred<void>();
    let calls = 0;
    const { supervisor, links } = supervise(async () => {
      if (++calls === 2) await gate.promise;
    });
    await supervisor.start();
    links[0]!.close("lost");
    await waitUntil(() => links.length === 2);
    supervisor.park();
    const acquired = supervisor.acquire(); // the next Docker client
    gate.resolve();
    const link = (await acquired) as unknown as FakeLink;
    expect(links[1]!.isClosed).toBe(true);
    expect(link.id).toBe(3);
    expect(supervisor.link).toBe(link.link);
    supervisor.stop();
  });
});

describe("Docker connections waiting for the link", () => {
  test("while the server is being created they wait up to createTimeoutMs, not connectTimeoutMs, and the log says so", async () => {
    let creating = false;
    const { supervisor, log } = supervise(async (_link, steps) => {
      if (creating) await steps.creating(() => sleep(300));
    }, { connectTimeoutMs: 100, createTimeoutMs: 5000 });
    await supervisor.start();
    supervisor.park(); // destroyed for idleness: the next connect creates a server
    creating = true;
    const before = Date.now();
    const link = await supervisor.acquire();
    expect(Date.now() - before).toBeGreaterThanOrEqual(280);
    expect(link).toBe(supervisor.link!);
    expect(log.lines.find((line) => line.message === "a Docker connection waits for the server to be created")?.fields).toMatchObject({ up_to_s: 5 });
    supervisor.stop();
  });

  test("a create that takes longer than createTimeoutMs: the waiter is closed with that reason", async () => {
    let creating = false;
    const { supervisor } = supervise(async (_link, steps) => {
      if (creating) await steps.creating(() => sleep(600));
    }, { connectTimeoutMs: 50, createTimeoutMs: 200 });
    await supervisor.start();
    supervisor.park();
    creating = true;
    const before = Date.now();
    await expect(supervisor.acquire()).rejects.toMatchObject({ code: "BRIDGE_LINK_DOWN", message: expect.stringContaining("the server is still being created after 0.2 s") });
    expect(Date.now() - before).toBeGreaterThanOrEqual(190);
    expect(Date.now() - before).toBeLessThan(500);
    supervisor.stop();
  });

  test("once the server exists, connectTimeoutMs counts again, from the end of the create", async () => {
    let creating = false;
    const { supervisor } = supervise(async (_link, steps) => {
      if (!creating) return;
      await steps.creating(() => sleep(200));
      await sleep(2000); // SSH does not answer
    }, { connectTimeoutMs: 150, createTimeoutMs: 5000 });
    await supervisor.start();
    supervisor.park();
    creating = true;
    const before = Date.now();
    await expect(supervisor.acquire()).rejects.toMatchObject({ code: "BRIDGE_LINK_DOWN", message: expect.stringContaining("the SSH link is not up after 0.2 s") });
    const waited = Date.now() - before;
    expect(waited).toBeGreaterThanOrEqual(330);
    expect(waited).toBeLessThan(1000);
    supervisor.stop();
  });

  test("reconnecting an existing server: connectTimeoutMs applies", async () => {
    let slow = false;
    const { supervisor, links } = supervise(async () => {
      if (slow) await sleep(1000);
    }, { connectTimeoutMs: 100, createTimeoutMs: 5000 });
    await supervisor.start();
    slow = true;
    links[0]!.close("lost");
    await waitUntil(() => supervisor.link === undefined);
    const before = Date.now();
    await expect(supervisor.acquire()).rejects.toMatchObject({ code: "BRIDGE_LINK_DOWN" });
    expect(Date.now() - before).toBeLessThan(400);
    supervisor.stop();
  });

  test("stop() closes the link and turns waiters away", async () => {
    let slow = false;
    const { supervisor, links } = supervise(async () => {
      if (slow) await sleep(5000);
    });
    await supervisor.start();
    slow = true;
    links[0]!.close("lost");
    await waitUntil(() => supervisor.link === undefined);
    const waiting = [supervisor.acquire(), supervisor.whenUp()].map((wait) => wait.then(() => "up", (error: { code?: string }) => error.code));
    supervisor.stop();
    expect(await Promise.all(waiting)).toEqual(["BRIDGE_STOPPING", "BRIDGE_STOPPING"]);
  });
});

