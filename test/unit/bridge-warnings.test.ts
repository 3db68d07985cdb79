// The warnings `bridge status` lists (src/modes/bridge/local/warnings.ts), as the port forwards
// record them: a UDP port, a port moved off a busy one, a port not forwarded. Real listeners on
// loopback; the port list is the test's.
import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { PassThrough } from "node:stream";
import type { HostPort } from "../../src/docker/types.ts";
import { ActivityClock } from "../../src/modes/bridge/local/activity.ts";
import { PortForwards } from "../../src/modes/bridge/local/ports.ts";
import { BridgeWarnings } from "../../src/modes/bridge/local/warnings.ts";
import { formatStatus } from "../../src/modes/bridge/status-text.ts";
import { fakeLogger } from "../support/fake-logger.ts";
import { freePort } from "../support/ports.ts";

const tcp = (name: string, hostPort: number): HostPort => ({ container: { id: `id-${name}`, name }, proto: "tcp", hostIp: "0.0.0.0", hostPort });
const udp: HostPort = { container: { id: "id-dns", name: "dns" }, proto: "udp", hostIp: "0.0.0.0", hostPort: 5353 };

const opened: Server[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Takes `port` on 127.0.0.1, as another program would. */
async function occupy(port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  opened.push(server);
}

function forwards(conflict: "increment" | "fail") {
  const log = fakeLogger();
  const warnings = new BridgeWarnings();
  const ports = new PortForwards({ log, conflict, warnings, activity: new ActivityClock({ connectionTimeoutMs: 0 }), dial: async () => new PassThrough() });
  return { log, warnings, ports };
}

describe("bridge warnings", () => {
  test("kept by key: the first time stays, clear drops one, the oldest go past the limit", () => {
    let now = 0;
    const warnings = new BridgeWarnings({ limit: 2, now: () => new Date(now) });
    warnings.set("a", { container: "web", message: "first" });
    now = 1000;
    warnings.set("a", { container: "web", message: "again" });
    expect(warnings.list()).toEqual([{ container: "web", message: "again", since: "1970-01-01T00:00:00.000Z" }]);
    warnings.set("b", { container: "db", message: "b" });
    warnings.set("c", { container: "cache", message: "c" });
    expect(warnings.list().map((warning) => warning.container)).toEqual(["db", "cache"]);
    warnings.clear("b");
    expect(warnings.list().map((warning) => warning.container)).toEqual(["cache"]);
  });

  test("a UDP port: a warning with its container while it is published, gone when it is not; the log line stays", async () => {
    const { log, warnings, ports } = forwards("fail");
    await ports.sync([udp]);
    await ports.sync([udp]);
    expect(warnings.list()).toEqual([{ container: "dns", message: "UDP port 5353 not forwarded: SSH carries only TCP", since: expect.any(String) }]);
    expect(log.lines.filter((line) => line.message === "UDP port not forwarded: SSH carries only TCP")).toHaveLength(1);
    await ports.sync([]);
    expect(warnings.list()).toEqual([]);
  });

  test("a busy port moved to +1000: said with both ports until the forward closes", async () => {
    const port = await freePort();
    await occupy(port);
    const { log, warnings, ports } = forwards("increment");
    await ports.sync([tcp("web", port)]);
    try {
      expect(ports.list()[0]).toMatchObject({ requested: port, actual: port + 1000 });
      expect(warnings.list()).toEqual([{ container: "web", message: `port ${port} is on local port ${port + 1000} (the requested one is busy, or below 1024 for this user)`, since: expect.any(String) }]);
      expect(log.lines.some((line) => line.level === "warn" && line.message.startsWith("port forwarded to another local port"))).toBe(true);
      await ports.sync([]);
      expect(warnings.list()).toEqual([]);
    } finally {
      await ports.closeAll({ final: true });
    }
  });

  test("a busy port with port_conflict = fail: not forwarded, said until it is not published", async () => {
    const port = await freePort();
    await occupy(port);
    const { warnings, ports } = forwards("fail");
    await ports.sync([tcp("api", port)]);
    expect(ports.list()).toEqual([]);
    expect(warnings.list()).toEqual([{ container: "api", message: `port ${port} not forwarded: local port busy, not forwarded (port_conflict = fail)`, since: expect.any(String) }]);
    await ports.sync([]);
    expect(warnings.list()).toEqual([]);
  });
});

describe("bridge status as text", () => {
  const status = {
    pid: 42,
    socket: "/home/dev/.dockernet/bridge.sock",
    provider: "ssh",
    server: { name: "ssh://dev@box", address: "box:22", created_by_bridge: false },
    ssh: { connected: true, since: "2026-01-01T00:00:00.000Z", last_error: null, reconnects: 0 },
    docker: { reachable: true, last_check: null, last_error: null },
    forwards: [],
    activity: { connections: 0, bytes: 0, idle_s: 1, idle_time_left_s: null },
    idle: null,
  };

  test("a warnings block, one line each with its container, before the forwards", () => {
    const text = formatStatus({ ...status, warnings: [{ container: "dns", message: "UDP port 5353 not forwarded: SSH carries only TCP", since: "2026-01-01T00:00:02.000Z" }] });
    expect(text).toContain("warnings: 1\n  dns: UDP port 5353 not forwarded: SSH carries only TCP (since 2026-01-01T00:00:02.000Z)\n\nno forwarded ports");
  });

  test("no block without warnings", () => {
    expect(formatStatus({ ...status, warnings: [] })).not.toContain("warnings");
  });
});
