/**
 * flow under a flood, against the compiled binary, beside baselines measured in the same run:
 * - a container printing 200-byte lines as fast as it can through the reference agent, one
 *   subscriber reading at 64 KiB/s: manager RSS peak (target <= 200 MB), and a quiet container's
 *   `send_message` p50 / p99 during the flood beside without it (target p99 <= 2x);
 * - `send_message` with 10 clients at once beside a floor of the same parts: a bare Socket.IO
 *   relay over a Unix socket to the same agent, in a container of the same image with the same
 *   limits as flow gives one (flow.default_limits: 1 CPU). Rounds alternate flow and the floor,
 *   each round's p50 printed: targets 1.5x (p50) and 2x (p99).
 * Usage: bun test/bench/flow-flood.ts [clients=10] [messages per client=200] [flood seconds=10] [rounds=3]
 * FLOW_BENCH_MANAGER=path/to/dockernet runs another build as the manager (an older one, for
 * figures before a change); the agents in the containers stay this tree's.
 */
import { readFile } from "node:fs/promises";
import type { Socket } from "socket.io-client";
import { TestEngine } from "../support/engine.ts";
import { AGENT_IMAGE, BINARY_IN_IMAGE, RELAY_COMMAND, buildAgentImage, ensureBinary } from "../support/flow-image.ts";
import { FLOOR_CONTAINER, Floor } from "../support/flow-floor.ts";
import { FlowServer, connect, ok, removeFlowContainers, waitConnected } from "../support/flow-server.ts";
import { SlowReader } from "../support/flow-slow-reader.ts";
import { fmt, quantile, ratio, report } from "./_stats.ts";

const clients = Number(process.argv[2] ?? 10);
const perClient = Number(process.argv[3] ?? 200);
const floodSeconds = Number(process.argv[4] ?? 10);
const rounds = Number(process.argv[5] ?? 3);

const rssOf = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

/** `count` pings from one client, one after the other. */
async function pings(client: Socket, container: string, count: number, times: number[] = []): Promise<number[]> {
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await ok(client, "send_message", { container_id: container, message: { command: "ping" } });
    times.push(performance.now() - started);
  }
  return times;
}

/** Every client at once, `perClient` pings each. */
async function concurrent(sockets: Socket[], container: string): Promise<number[]> {
  for (const socket of sockets) await pings(socket, container, 5); // warm up
  const times: number[] = [];
  await Promise.all(sockets.map((socket) => pings(socket, container, perClient, times)));
  return times;
}

const engine = await TestEngine.start({ name: "dnbench-flood", subnet: 132 });
try {
  await buildAgentImage(engine);
  const binary = await ensureBinary();
  const manager = process.env.FLOW_BENCH_MANAGER ?? binary;
  await using flow = await FlowServer.start(engine, { program: [manager, []] });
  const admin = await flow.client();
  const quiet = await ok<{ id: string }>(admin, "create_container", { image: AGENT_IMAGE, name: "quiet", command: RELAY_COMMAND });
  await ok(admin, "start_container", { container_id: quiet.id });
  await waitConnected(admin, quiet.id);

  // The floor: a bare Socket.IO relay (same runtime) and the same agent program in a container
  // of the same image, with the limits flow gives a container by default.
  const floor = await Floor.start(engine);
  const floorClients = await Promise.all(Array.from({ length: clients }, () => floor.client()));

  // 10 clients through flow and through the floor, alternating rounds (order swapped each round).
  const sockets = await Promise.all(Array.from({ length: clients }, () => flow.client()));
  const viaFlow: number[] = [];
  const viaFloor: number[] = [];
  const perRound: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const sides = [
      async () => viaFlow.push(...(await concurrent(sockets, quiet.id))),
      async () => viaFloor.push(...(await concurrent(floorClients, FLOOR_CONTAINER))),
    ];
    if (round % 2 === 1) sides.reverse();
    const flowFrom = viaFlow.length;
    const floorFrom = viaFloor.length;
    for (const side of sides) await side();
    perRound.push(ratio(quantile(viaFlow.slice(flowFrom), 0.5), quantile(viaFloor.slice(floorFrom), 0.5)));
  }
  await floor[Symbol.asyncDispose]();
  // The same through flow with the container's CPU quota lifted to the machine's two cores.
  let viaFlowRoomy: number[] = [];
  if (manager === binary) {
    const roomy = await ok<{ id: string }>(admin, "create_container", { image: AGENT_IMAGE, name: "roomy", command: RELAY_COMMAND, limits: { cpus: 2 } });
    await ok(admin, "start_container", { container_id: roomy.id });
    await waitConnected(admin, roomy.id);
    viaFlowRoomy = await concurrent(sockets, roomy.id);
    await ok(admin, "delete_container", { container_id: roomy.id });
  }

  // The flood: quiet before, then during; RSS sampled all along.
  const before = await pings(admin, quiet.id, 600);
  const rssBefore = await rssOf(flow.daemon.pid);
  const flooder = await ok<{ id: string }>(admin, "create_container", { image: AGENT_IMAGE, name: "flooder", command: [BINARY_IN_IMAGE, "flow", "agent", "--", "yes", "x".repeat(199)] });
  await using slowLink = await SlowReader.start(flow.port, 64 * 1024);
  const slow = await connect(slowLink.url, flow.token);
  let dropped = 0;
  slow.on("dropped", (notice: { containers: { container_message: number }[] }) => void (dropped += notice.containers.reduce((sum, entry) => sum + entry.container_message, 0)));
  await ok(slow, "subscribe", { container_id: flooder.id });
  let peak = rssBefore;
  const sampler = setInterval(() => void rssOf(flow.daemon.pid).then((rss) => (peak = Math.max(peak, rss))), 100);
  await ok(admin, "start_container", { container_id: flooder.id });
  const during: number[] = [];
  const until = Date.now() + floodSeconds * 1000;
  while (Date.now() < until) await pings(admin, quiet.id, 50, during);
  await ok(admin, "stop_container", { container_id: flooder.id });
  clearInterval(sampler);
  slowLink.setRate(Infinity);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const rssAfter = await rssOf(flow.daemon.pid);

  console.log(`\nflow under a flood (${manager === binary ? "the binary" : manager}), ${floodSeconds} s, one subscriber at 64 KiB/s; the machine is shared`);
  report("manager RSS before / peak / 3 s after", `${rssBefore.toFixed(0)} / ${peak.toFixed(0)} / ${rssAfter.toFixed(0)} MB   (target: peak <= 200 MB)`);
  report("quiet send_message p50 / p99, no flood", `${fmt(quantile(before, 0.5))} / ${fmt(quantile(before, 0.99))}`);
  report("quiet send_message p50 / p99, flood", `${fmt(quantile(during, 0.5))} / ${fmt(quantile(during, 0.99))}`);
  report("p99 ratio (flood / none)", `${ratio(quantile(during, 0.99), quantile(before, 0.99))}   (target: <= 2x)`);
  report("slow subscriber", `${slow.connected ? "connected" : "DISCONNECTED"}, told of ${dropped} dropped messages`);
  console.log(`\nsend_message, ${clients} clients at once, ${perClient} each`);
  report("flow p50 / p99", `${fmt(quantile(viaFlow, 0.5))} / ${fmt(quantile(viaFlow, 0.99))}`);
  report("flow, the container allowed 2 CPUs, p50 / p99", `${fmt(quantile(viaFlowRoomy, 0.5))} / ${fmt(quantile(viaFlowRoomy, 0.99))}`);
  report("floor (bare Socket.IO relay, the agent in a container, 1 CPU)", `${fmt(quantile(viaFloor, 0.5))} / ${fmt(quantile(viaFloor, 0.99))}`);
  report(`ratio p50 / p99, ${rounds} alternating rounds`, `${ratio(quantile(viaFlow, 0.5), quantile(viaFloor, 0.5))} / ${ratio(quantile(viaFlow, 0.99), quantile(viaFloor, 0.99))}   (targets: 1.5x / 2x)`);
  report("per-round p50 ratios", perRound.join(" "));
  slow.close();
  await removeFlowContainers(engine);
} finally {
  await engine.stop();
}
