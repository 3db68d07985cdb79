import { describe, expect, test } from "bun:test";
import type { DockerEvent } from "../../src/docker/types.ts";
import { JoinMemory } from "../../src/modes/join/_memory.ts";
import { joinEventHandler } from "../../src/modes/join/events.ts";
import { fakeLogger } from "./_join-fake-docker.ts";
import { joinConfig } from "./_join-fixtures.ts";

function setup() {
  const enqueued: string[] = [];
  const state = new JoinMemory();
  state.scanned({ proxyId: "proxy-id", routable: ["web-id"], bystanders: ["db-id"] });
  const driver = { enqueue: (key: string) => void enqueued.push(key), resync: async () => {} };
  const log = fakeLogger();
  const handler = joinEventHandler(state, driver, { config: joinConfig(), log });
  const send = (type: DockerEvent["type"], action: string, id: string, attributes: Record<string, string> = {}) =>
    handler.onEvent({ type, action, id, name: attributes.name ?? "", attributes, timeNano: 0n });
  return { enqueued, state, log, send };
}

describe("join events", () => {
  test("starts and deaths of routable or unknown containers scan again; the others' are skipped", () => {
    const { enqueued, state, send } = setup();
    send("container", "start", "new-id", { name: "new" });
    send("container", "die", "web-id", { name: "web" });
    send("container", "die", "db-id", { name: "db" });
    send("container", "start", "db-id", { name: "db" });
    send("container", "kill", "web-id", { name: "web", signal: "15" });
    expect(enqueued).toHaveLength(2);
    expect([...state.hints.started]).toEqual(["new-id"]);
    expect([...state.hints.stopped]).toEqual(["web-id"]);
  });

  test("network events: a running container's connect is inspected by the next scan; a starting container's waits for its start", () => {
    const { enqueued, state, send } = setup();
    send("network", "connect", "back-id", { container: "web-id", name: "back" });
    send("network", "connect", "front-id", { container: "starting-id", name: "front" });
    send("network", "connect", "front-id", { container: "db-id", name: "front" });
    expect(enqueued).toHaveLength(1);
    expect([...state.hints.refresh]).toEqual(["web-id"]);
    send("container", "start", "starting-id");
    send("network", "connect", "back-id", { container: "starting-id", name: "back" }); // connected right after its start
    expect([...state.hints.refresh]).toEqual(["web-id", "starting-id"]);
    send("container", "die", "web-id");
    send("network", "disconnect", "back-id", { container: "web-id", name: "back" }); // the die said it already
    expect(enqueued).toHaveLength(4);
  });

  test("the proxy: its own changes are ignored once, others' are followed, its start re-joins", () => {
    const { enqueued, state, log, send } = setup();
    state.pending.expect("connect", "web-net");
    send("network", "connect", "web-net", { container: "proxy-id", name: "web" });
    expect(enqueued).toEqual([]);
    send("network", "connect", "web-net", { container: "proxy-id", name: "web" }); // again: not ours this time
    send("network", "disconnect", "web-net", { container: "proxy-id", name: "web" });
    expect(enqueued).toHaveLength(2);
    send("container", "start", "other-proxy-id", { name: "http-proxy" });
    expect(enqueued).toHaveLength(3);
    expect(log.lines.map((line) => line.message)).toContain("proxy container started, joining its networks");
  });

  test("destroy forgets a container; a network destroy scans again", () => {
    const { enqueued, state, send } = setup();
    state.envCache.set("gone-id", ["VIRTUAL_HOST"]);
    send("container", "die", "gone-id");
    send("container", "destroy", "gone-id");
    expect(state.envCache.get("gone-id")).toBeUndefined();
    expect(state.hints.stopped.size).toBe(0);
    send("network", "destroy", "old-id", { name: "old" });
    expect(enqueued).toHaveLength(2);
  });
});
