/**
 * The manager's CPU time per `send_message` and per line of a flood, read from /proc/PID/stat over
 * a fixed amount of work: a figure a shared machine moves by some 10%, where latencies swing by
 * tens of percent with whatever else runs. Several builds, their rounds alternating, each figure beside the first
 * build's from the same rounds:
 * - `send_message` with 10 clients at once, `perClient` pings each: CPU ms per request, beside the
 *   floor's (test/support/flow-floor.ts: a bare Socket.IO relay to the same agent);
 * - a container printing 200-byte lines as fast as it can (the manager reads it at its rate bound,
 *   1 MiB/s): CPU µs per line sent to a subscriber that keeps up, and per line read with nobody
 *   subscribed (the slow reader of flow-flood.ts is between the two, and varies from run to run).
 * Usage: bun test/bench/flow-cpu.ts [messages per client=300] [flood seconds=8] [rounds=3] [BUILD...]
 * A BUILD is a dockernet executable (default: this tree's dist/dockernet, built when stale);
 * `src` runs this tree's source with bun, and `FLOW_CPU_PROFILE=DIR` then writes a CPU profile
 * of each such manager into DIR (a .cpuprofile and its markdown digest, sampled every 250 µs;
 * count samples rather than their times: a sample after an idle wait carries the wait).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Socket } from "socket.io-client";
import { TestEngine } from "../support/engine.ts";
import { repoRoot } from "../support/dockernet.ts";
import { AGENT_IMAGE, BINARY_IN_IMAGE, RELAY_COMMAND, buildAgentImage, ensureBinary } from "../support/flow-image.ts";
import { FLOOR_CONTAINER, Floor } from "../support/flow-floor.ts";
import { FlowServer, ok, removeFlowContainers, waitConnected } from "../support/flow-server.ts";
import { report } from "./_stats.ts";

const perClient = Number(process.argv[2] ?? 300);
const floodSeconds = Number(process.argv[3] ?? 8);
const rounds = Number(process.argv[4] ?? 3);
const clients = 10;
const ticksPerMs = 100 / 1000; // USER_HZ

/** utime + stime of a process, in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
}

function program(build: string): [string, string[]] {
  if (build !== "src") return [build, []];
  const profile = process.env.FLOW_CPU_PROFILE;
  const flags = profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profile}`, "--cpu-prof-interval=250"] : [];
  return [join(repoRoot, "node_modules/.bin/bun"), [...flags, join(repoRoot, "src/main.ts")]];
}

async function pings(client: Socket, container: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await ok(client, "send_message", { container_id: container, message: { command: "ping" } });
}

/** CPU ms of process `pid` per request, `perClient` pings from each socket at once (after a warm-up). */
async function perRequest(pid: number, sockets: Socket[], container: string): Promise<number> {
  await Promise.all(sockets.map((socket) => pings(socket, container, 20)));
  const from = await cpuMs(pid);
  await Promise.all(sockets.map((socket) => pings(socket, container, perClient)));
  return ((await cpuMs(pid)) - from) / (sockets.length * perClient);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one round of one build cost: ms per request, µs per flood line sent to a subscriber and per line read with none. */
interface Costs {
  perRequest: number;
  perLineSent: number;
  perLineRead: number;
}

/**
 * One round of one build. The flood in two halves: a subscriber that keeps up (every line read is
 * sent to it, counted as it comes), then nobody subscribed (every line read is dropped at once);
 * the manager reads at its rate bound in both, so the second half's lines are the first's rate.
 */
async function round(engine: TestEngine, build: string): Promise<Costs> {
  await using flow = await FlowServer.start(engine, { program: program(build) });
  const pid = flow.daemon.pid;
  const admin = await flow.client();
  const quiet = await ok<{ id: string }>(admin, "create_container", { image: AGENT_IMAGE, name: "quiet", command: RELAY_COMMAND });
  await ok(admin, "start_container", { container_id: quiet.id });
  await waitConnected(admin, quiet.id);
  const sockets = await Promise.all(Array.from({ length: clients }, () => flow.client()));
  const request = await perRequest(pid, sockets, quiet.id);
  for (const socket of sockets) socket.close();

  const flooder = await ok<{ id: string }>(admin, "create_container", { image: AGENT_IMAGE, name: "flooder", command: [BINARY_IN_IMAGE, "flow", "agent", "--", "yes", "x".repeat(199)] });
  const reader = await flow.client();
  let lines = 0;
  reader.on("container_message", () => void lines++);
  await ok(reader, "subscribe", { container_id: flooder.id });
  await ok(admin, "start_container", { container_id: flooder.id });
  await waitConnected(admin, flooder.id);
  await sleep(500); // the flood is under way
  const halfMs = (floodSeconds * 1000) / 2;
  const [sentFrom, linesFrom] = [await cpuMs(pid), lines];
  await sleep(halfMs);
  const [sentCpu, sent] = [(await cpuMs(pid)) - sentFrom, lines - linesFrom];
  await ok(reader, "unsubscribe", { container_id: flooder.id });
  await sleep(300);
  const readFrom = await cpuMs(pid);
  await sleep(halfMs);
  const readCpu = (await cpuMs(pid)) - readFrom;
  await removeFlowContainers(engine);
  return { perRequest: request, perLineSent: (sentCpu * 1000) / sent, perLineRead: (readCpu * 1000) / sent };
}

const builds = process.argv.slice(5);
const engine = await TestEngine.start({ name: "dnbench-flowcpu", subnet: 133 });
try {
  await buildAgentImage(engine);
  if (builds.length === 0) builds.push(await ensureBinary());
  const results = builds.map(() => ({ perRequest: [] as number[], perLineSent: [] as number[], perLineRead: [] as number[] }));
  await using floor = await Floor.start(engine);
  const floorClients = await Promise.all(Array.from({ length: clients }, () => floor.client()));
  const viaFloor: number[] = [];
  for (let r = 0; r < rounds; r++) {
    viaFloor.push(await perRequest(floor.pid, floorClients, FLOOR_CONTAINER));
    console.log(`round ${r + 1} the floor: ${(viaFloor.at(-1) as number).toFixed(3)} ms/request`);
    // Alternate the order each round, so neither build always runs on a warmer machine.
    const order = builds.map((_, index) => index);
    if (r % 2 === 1) order.reverse();
    for (const index of order) {
      const result = await round(engine, builds[index] as string);
      const kept = results[index] as (typeof results)[number];
      kept.perRequest.push(result.perRequest);
      kept.perLineSent.push(result.perLineSent);
      kept.perLineRead.push(result.perLineRead);
      console.log(`round ${r + 1} ${builds[index]}: ${result.perRequest.toFixed(3)} ms/request, ${result.perLineSent.toFixed(1)} µs/line sent, ${result.perLineRead.toFixed(1)} µs/line read`);
    }
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const base = results[0] as (typeof results)[number];
  console.log(`\nmanager CPU time (utime + stime), ${rounds} alternating rounds; the machine is shared`);
  report(`the floor (bare Socket.IO relay): per send_message`, `${mean(viaFloor).toFixed(3)} ms`);
  builds.forEach((build, index) => {
    const own = results[index] as (typeof results)[number];
    report(`${build}: per send_message (${clients} clients)`, `${mean(own.perRequest).toFixed(3)} ms   (${(mean(own.perRequest) / mean(base.perRequest)).toFixed(2)}x the first, ${(mean(own.perRequest) / mean(viaFloor)).toFixed(2)}x the floor)`);
    report(`${build}: per flood line sent to a subscriber`, `${mean(own.perLineSent).toFixed(1)} µs   (${(mean(own.perLineSent) / mean(base.perLineSent)).toFixed(2)}x the first)`);
    report(`${build}: per flood line read, nobody subscribed`, `${mean(own.perLineRead).toFixed(1)} µs   (${(mean(own.perLineRead) / mean(base.perLineRead)).toFixed(2)}x the first)`);
  });
} finally {
  await engine.stop();
}
