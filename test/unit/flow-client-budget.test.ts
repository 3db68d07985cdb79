import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { ClientBudget, type DroppedNotice, type EngineConnection } from "../../src/modes/flow/manager/_client-budget.ts";
import { boundRecoveryStore } from "../../src/modes/flow/manager/_recovery-store.ts";

/** An Engine.IO socket as far as the budget reads it: packets made, batches flushed, transports drained. */
function fakeConnection() {
  const conn = new EventEmitter() as EventEmitter & { transport: EventEmitter };
  conn.transport = new EventEmitter();
  return conn;
}

describe("a client's budget", () => {
  test("counts packets waiting and in flight, forgets a batch when the transport drains it", () => {
    const conn = fakeConnection();
    const budget = new ClientBudget(conn as unknown as EngineConnection, () => {}, 1000);
    conn.emit("packetCreate", { data: "x".repeat(600) });
    conn.emit("packetCreate", { data: Buffer.alloc(300) });
    expect(budget.queued).toBe(900);
    expect(budget.over).toBe(false);
    conn.emit("flush", [{ data: "x".repeat(600) }, { data: Buffer.alloc(300) }]);
    conn.emit("packetCreate", { data: "y".repeat(200) });
    expect(budget.queued).toBe(1100);
    expect(budget.over).toBe(true);
    conn.transport.emit("drain");
    expect(budget.queued).toBe(200);
    // After an upgrade, the new transport's drains count.
    const next = new EventEmitter();
    conn.emit("upgrade", next);
    conn.emit("flush", [{ data: "y".repeat(200) }]);
    expect(budget.queued).toBe(200);
    next.emit("drain");
    expect(budget.queued).toBe(0);
  });

  test("dropped events are told per container, at most once a second", async () => {
    const told: DroppedNotice[] = [];
    const budget = new ClientBudget(fakeConnection() as unknown as EngineConnection, (notice) => void told.push(notice), 10);
    const a = { id: "a".repeat(64), name: "a" };
    budget.drop(a, "container_message");
    budget.drop(a, "log");
    budget.drop({ id: "b".repeat(64), name: "b" }, "container_message");
    await Bun.sleep(20);
    expect(told).toHaveLength(1);
    expect(told[0]?.containers).toEqual([
      { container_id: a.id, name: "a", container_message: 1, log: 1 },
      { container_id: "b".repeat(64), name: "b", container_message: 1, log: 0 },
    ]);
    budget.drop(a, "container_message");
    await Bun.sleep(300);
    expect(told).toHaveLength(1); // not before a second has passed
    await Bun.sleep(900);
    expect(told).toHaveLength(2);
    expect(told[1]?.containers).toEqual([{ container_id: a.id, name: "a", container_message: 1, log: 0 }]);
    budget.close();
  });
});

describe("the recovery store", () => {
  test("keeps the newest events within its bytes, in step with the adapter's own expiry", () => {
    const adapter = {
      packets: [] as { data: unknown[] }[],
      broadcast(packet: { data?: unknown[] }) {
        this.packets.push({ data: packet.data ?? [] });
      },
    };
    boundRecoveryStore(adapter, 300);
    for (let i = 0; i < 10; i++) adapter.broadcast({ data: ["m", "x".repeat(90), String(i)] });
    const kept = adapter.packets.map((packet) => packet.data[2]);
    expect(kept.length).toBeLessThan(10);
    expect(kept.at(-1)).toBe("9");
    expect(JSON.stringify(adapter.packets.map((packet) => packet.data)).length).toBeLessThanOrEqual(300 + 10);
    // The adapter expires the oldest itself: the store goes on counting right.
    adapter.packets.splice(0, 1);
    adapter.broadcast({ data: ["m", "x".repeat(90), "10"] });
    expect(adapter.packets.at(-1)?.data[2]).toBe("10");
    expect(() => boundRecoveryStore({})).toThrow("connection state recovery is not available");
  });

  test("weighs an event by the adapter's own encoding of it when there is one", () => {
    const adapter = {
      packets: [] as { data: unknown[] }[],
      encoded: 0,
      _encode(packet: { data?: unknown[] }, _options: unknown) {
        this.encoded++;
        // Ten times what the data's JSON is: the store must count this, not encode again.
        return [JSON.stringify(packet.data).repeat(10)];
      },
      broadcast(packet: { data?: unknown[] }, options: unknown) {
        this._encode(packet, options);
        this.packets.push({ data: packet.data ?? [] });
      },
    };
    boundRecoveryStore(adapter, 3000);
    for (let i = 0; i < 10; i++) adapter.broadcast({ data: ["m", "x".repeat(90), String(i)] }, {});
    expect(adapter.encoded).toBe(10);
    // Each weighs about 1000 bytes as encoded (100 as JSON, when all ten would fit): past 3000,
    // the store is cut to 90% of it, two events.
    expect(adapter.packets.map((packet) => packet.data[2])).toEqual(["8", "9"]);
  });
});
