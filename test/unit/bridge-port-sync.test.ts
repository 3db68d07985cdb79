// The scans of the remote engine's published ports (src/modes/bridge/local/port-sync.ts): one at a
// time, a burst asked for meanwhile run as one more scan after it, and what `status` shows of the
// engine. The list is the test's; the forwards are real (a UDP port: warned, nothing bound).
import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { sleep } from "../../src/core/backoff.ts";
import type { HostPort } from "../../src/docker/types.ts";
import { ActivityClock } from "../../src/modes/bridge/local/activity.ts";
import { PortSync } from "../../src/modes/bridge/local/port-sync.ts";
import { PortForwards } from "../../src/modes/bridge/local/ports.ts";
import { fakeLogger } from "../support/fake-logger.ts";

const udp: HostPort = { container: { id: "c1", name: "dns" }, proto: "udp", hostIp: "0.0.0.0", hostPort: 5353 };

function forwards() {
  const log = fakeLogger();
  return { log, forwards: new PortForwards({ log, conflict: "fail", activity: new ActivityClock({ connectionTimeoutMs: 0 }), dial: async () => new PassThrough() }) };
}

describe("port scans", () => {
  test("a burst of rescans while one runs is one more scan after it, not one each", async () => {
    let lists = 0;
    let release!: () => void;
    const { forwards: sync } = forwards();
    const ports = new PortSync({
      list: async () => {
        if (++lists === 1) await new Promise<void>((resolve) => (release = resolve));
        return [];
      },
      forwards: sync,
    });
    ports.rescan();
    await sleep(5);
    for (let i = 0; i < 20; i++) ports.rescan();
    release();
    await sleep(20);
    expect(lists).toBe(2);
    ports.rescan();
    await sleep(20);
    expect(lists).toBe(3);
  });

  test("status: reachable with the time of the last scan, or the error of a failed one; the ports reach the forwards", async () => {
    let fail = false;
    const { forwards: sync, log } = forwards();
    const ports = new PortSync({ list: async () => (fail ? Promise.reject(new Error("connect ENOENT")) : [udp]), forwards: sync });
    ports.rescan();
    await sleep(20);
    expect(ports.docker).toMatchObject({ reachable: true, last_error: null, last_check: expect.any(String) });
    expect(log.lines.map((line) => line.message)).toContain("UDP port not forwarded: SSH carries only TCP");
    fail = true;
    ports.rescan();
    await sleep(20);
    expect(ports.docker).toMatchObject({ reachable: false, last_error: "connect ENOENT" });
  });

  test("after stop, rescans are not made", async () => {
    let lists = 0;
    const { forwards: sync } = forwards();
    const ports = new PortSync({ list: async () => (lists++, []), forwards: sync });
    ports.stop();
    ports.rescan();
    await sleep(20);
    expect(lists).toBe(0);
  });
});
