/**
 * flow's figures beside baselines measured in the same run (machines here are noisy):
 * - `send_message` round trip with 20 containers and 10 clients (p50, p99), beside a raw
 *   Unix-socket NDJSON echo on the same machine (targets: p50 <= 2 ms, p99 <= 10 ms end to end);
 * - `create_container` + `start_container` to running, beside the same create + start made
 *   straight through the Docker API (target: <= 1.2x);
 * - RSS of `flow serve` idle with 20 containers connected.
 * Usage: bun test/bench/flow-latency.ts [containers=20] [clients=10] [messages per client=200]
 */
import { readFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { TestEngine } from "../support/engine.ts";
import { DockerClient } from "../../src/docker/client.ts";
import { AGENT_IMAGE, buildAgentImage, ensureBinary } from "../support/flow-image.ts";
import { FlowServer, ok, removeFlowContainers, tempDir, waitConnected } from "../support/flow-server.ts";
import { fmt, quantile, ratio, report } from "./_stats.ts";

const containers = Number(process.argv[2] ?? 20);
const clients = Number(process.argv[3] ?? 10);
const perClient = Number(process.argv[4] ?? 200);

/**
 * Raw NDJSON echo round trips over Unix sockets, `parallel` connections at once as the flow
 * clients are: the floor of a request through one process at the same concurrency.
 */
async function rawEcho(parallel: number, each: number): Promise<number[]> {
  const dir = await tempDir("dnflow-bench-");
  const path = join(dir, "echo.sock");
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const times: number[] = [];
  const one = async () => {
    const socket = createConnection(path);
    await new Promise((resolve) => socket.once("connect", resolve));
    let pending: (() => void) | undefined;
    let buffer = "";
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      while (buffer.includes("\n")) {
        buffer = buffer.slice(buffer.indexOf("\n") + 1);
        pending?.();
      }
    });
    for (let i = 0; i < each; i++) {
      const started = performance.now();
      await new Promise<void>((resolve) => {
        pending = resolve;
        socket.write(`${JSON.stringify({ id: String(i), type: "request", command: "ping", data: {} })}\n`);
      });
      times.push(performance.now() - started);
    }
    socket.destroy();
  };
  await Promise.all(Array.from({ length: parallel }, one));
  server.close();
  return times;
}

function rssOf(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, "utf8").then((text) => Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024);
}

const engine = await TestEngine.start({ name: "dnbench-flow", subnet: 120 });
try {
  await buildAgentImage(engine);
  const docker = new DockerClient(engine.host);
  // The compiled binary, as users run it (its memory is what a service holds).
  await using flow = await FlowServer.start(engine, { program: [await ensureBinary(), []] });
  const admin = await flow.client();

  // create -> running: through flow, and straight through the Docker API, alternately.
  const viaFlow: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < 10; i++) {
    let started = performance.now();
    const created = await ok<{ id: string }>(admin, "create_container", { image: AGENT_IMAGE, name: `bench-c${i}` });
    await ok(admin, "start_container", { container_id: created.id });
    viaFlow.push(performance.now() - started);
    await ok(admin, "delete_container", { container_id: created.id });
    started = performance.now();
    const id = await docker.createContainer({ name: `bench-d${i}`, image: AGENT_IMAGE, env: [], labels: {}, binds: [], ports: [] });
    await docker.startContainer(id);
    direct.push(performance.now() - started);
    await docker.removeContainer(id);
  }

  const ids: string[] = [];
  for (let i = 0; i < containers; i++) {
    const created = await ok<{ id: string }>(admin, "create_container", { image: AGENT_IMAGE, name: `bench-${i}` });
    await ok(admin, "start_container", { container_id: created.id });
    ids.push(created.id);
  }
  for (const id of ids) await waitConnected(admin, id);

  const sockets = await Promise.all(Array.from({ length: clients }, () => flow.client()));
  // Warm up (JIT, connections), then measure every client at once.
  for (const socket of sockets) await ok(socket, "send_message", { container_id: ids[0], message: { command: "ping" } });
  const times: number[] = [];
  await Promise.all(
    sockets.map(async (socket, client) => {
      for (let i = 0; i < perClient; i++) {
        const started = performance.now();
        await ok(socket, "send_message", { container_id: ids[(client + i) % ids.length], message: { command: "ping" } });
        times.push(performance.now() - started);
      }
    }),
  );
  const raw = await rawEcho(clients, perClient);

  await new Promise((resolve) => setTimeout(resolve, 3000));
  const rss = await rssOf(flow.daemon.pid);

  console.log(`\nflow, ${containers} containers, ${clients} clients, ${times.length} send_message round trips`);
  report("send_message p50 / p99", `${fmt(quantile(times, 0.5))} / ${fmt(quantile(times, 0.99))}   (targets: 2 ms / 10 ms)`);
  report(`raw Unix-socket NDJSON echo, ${clients} at once, p50 / p99`, `${fmt(quantile(raw, 0.5))} / ${fmt(quantile(raw, 0.99))}`);
  report("create + start to running, flow p50", fmt(quantile(viaFlow, 0.5)));
  report("create + start straight through the Docker API p50", fmt(quantile(direct, 0.5)));
  report("ratio (flow / direct)", `${ratio(quantile(viaFlow, 0.5), quantile(direct, 0.5))}   (target: <= 1.2x)`);
  report(`flow serve RSS, idle with ${containers} containers`, `${rss.toFixed(1)} MB`);
  await removeFlowContainers(engine);
} finally {
  await engine.stop();
}
