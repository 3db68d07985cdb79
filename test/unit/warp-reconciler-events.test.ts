/**
 * WarpReconciler's events, against a Docker client that answers from fixtures (the reconciler's
 * event logic is what is under test; the real engine runs in test/integration/warp*.test.ts).
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { configureLogging, createLogger } from "../../src/core/logger.ts";
import type { DockerClient } from "../../src/docker/client.ts";
import type { DockerEvent, ObservedContainer } from "../../src/docker/types.ts";
import { WarpReconciler } from "../../src/modes/warp/reconciler.ts";
import { container, net, warpConfig } from "./_warp-fixtures.ts";

function event(action: string, subject: ObservedContainer): DockerEvent {
  return { type: "container", action, id: subject.id, name: subject.name, attributes: { name: subject.name, ...subject.labels }, timeNano: BigInt(Date.now()) * 1_000_000n };
}

/** A reconciler over a client that answers inspects with `answer` and lists nothing; `inspected` records each inspect. */
function reconcilerAnswering(answer: (idOrName: string, inspected: string[]) => Promise<ObservedContainer | undefined>) {
  const inspected: string[] = [];
  const client = {
    inspectContainer(idOrName: string) {
      inspected.push(idOrName);
      return answer(idOrName, inspected);
    },
    async listContainers() {
      return [];
    },
  } as unknown as DockerClient;
  return { reconciler: new WarpReconciler({ client, config: warpConfig(), log: createLogger("warp") }), inspected };
}

beforeEach(() => configureLogging({ level: "silent", format: "json" }));
afterEach(() => configureLogging({ level: "info", format: "pretty" }));

test("the warp container dying while a new target's first reconcile plans it queues that target again", async () => {
  // No shared network: the plan is an error, which the driver never retries by itself, so a
  // second reconcile can only come from the event.
  const target = container("t1", { labels: { "network.warp.target": "warp-1" }, networks: [net("front", "10.0.0.5")] });
  const warp = container("warp-1", { networks: [net("back", "10.1.0.2")] });
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const { reconciler, inspected } = reconcilerAnswering(async (idOrName, seen) => {
    if (idOrName === target.id && seen.filter((name) => name === target.id).length === 1) await held;
    return idOrName === target.id ? target : idOrName === warp.name ? warp : undefined;
  });
  await reconciler.handler.onEvent(event("start", target));
  await Bun.sleep(10); // its reconcile is waiting for the target's inspect
  await reconciler.handler.onEvent(event("die", warp));
  release();
  await reconciler.driver.drain();
  expect(inspected.filter((name) => name === target.id)).toHaveLength(2);
  await reconciler.driver.stop();
});

test("a target's create event inspects nothing; its start event routes it", async () => {
  const target = container("t1", { labels: { "network.warp.target": "warp-1" }, networks: [net("front", "10.0.0.5")] });
  const { reconciler, inspected } = reconcilerAnswering(async (idOrName) => (idOrName === target.id ? target : undefined));
  await reconciler.handler.onEvent(event("create", target));
  await reconciler.driver.drain();
  expect(inspected).toEqual([]);
  await reconciler.handler.onEvent(event("start", target));
  await reconciler.driver.drain();
  expect(inspected).toContain(target.id);
  await reconciler.driver.stop();
});
