/**
 * Event-to-route latency of `dockernet warp` (the compiled binary) for N targets started at once,
 * beside a floor measured in the same run: a minimal reactor that does one container inspect and
 * one `nsenter -t PID -n ip route replace` per start event and nothing else. Both are timed from
 * Docker's own start event time to the route being in place. Also: the idle RSS of the daemon
 * holding those targets. Usage: bun test/bench/warp-latency.ts [targets=50] [rounds=2]
 */
import Docker from "dockerode";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { exec, sleep } from "../support/_exec.ts";
import { Daemon, repoRoot, waitFor } from "../support/dockernet.ts";
import { TestEngine } from "../support/engine.ts";
import { fmt, quantile, ratio, report } from "./_stats.ts";

const targets = Number(process.argv[2] ?? 50);
const rounds = Number(process.argv[3] ?? 2);
process.env.DN_TEST_BIN ??= join(repoRoot, "dist/dockernet");

const engine = await TestEngine.start({ name: "dnbench", subnet: 94 });
const docker = new Docker({ socketPath: engine.socketPath });

/** Start times (ms since epoch, from Docker's event) of containers by name. */
async function startEvents(since: number): Promise<Map<string, number>> {
  const stream = (await docker.getEvents({ since: Math.floor(since / 1000) - 1, until: Math.ceil(Date.now() / 1000) + 1, filters: { type: ["container"], event: ["start"] } })) as NodeJS.ReadableStream;
  const times = new Map<string, number>();
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  for (const line of text.split("\n").filter(Boolean)) {
    const event = JSON.parse(line) as { Actor: { Attributes: { name: string } }; timeNano: number };
    times.set(event.Actor.Attributes.name, event.timeNano / 1e6);
  }
  return times;
}

async function createTargets(prefix: string, network: string): Promise<Docker.Container[]> {
  const created: Docker.Container[] = [];
  // Each target notes when its own command started (for the start window), then sleeps.
  const cmd = ["sh", "-c", "cat /proc/uptime > /tmp/started; exec sleep 3600"];
  for (let i = 0; i < targets; i++) {
    const labels = { "dockernet.test": engine.runId, "network.warp.target": "warp-1" };
    created.push(await docker.createContainer({ name: `${prefix}-${i}`, Image: engine.image, Cmd: cmd, Labels: labels, HostConfig: { NetworkMode: network }, StopTimeout: 1 }));
  }
  return created;
}

async function removeTargets(list: Docker.Container[]): Promise<void> {
  await Promise.all(list.map((container) => container.remove({ force: true })));
}

/** The floor: inspect + one nsenter ip route replace per start event, nothing else. */
async function floorRound(network: string, via: string, round: number): Promise<{ latencies: number[]; spanMs: number }> {
  const list = await createTargets(`floor${round}`, network);
  const done = new Map<string, number>();
  const stream = (await docker.getEvents({ filters: { type: ["container"], event: ["start"], label: ["network.warp.target"] } })) as NodeJS.ReadableStream & { destroy(): void };
  const work: Promise<void>[] = [];
  let rest = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) {
      const event = JSON.parse(line) as { id: string };
      work.push(
        (async () => {
          const info = await docker.getContainer(event.id).inspect();
          await exec("nsenter", ["-t", String(info.State.Pid), "-n", "ip", "route", "replace", "default", "via", via]);
          done.set(info.Name.slice(1), Date.now());
        })(),
      );
    }
  });
  const since = Date.now();
  await Promise.all(list.map((container) => container.start()));
  await waitFor("the floor reactor to route every target", () => done.size === targets, 60_000);
  stream.destroy();
  await Promise.all(work);
  const starts = await startEvents(since);
  const latencies = [...done].map(([name, at]) => at - (starts.get(name) ?? Number.NaN));
  const spanMs = Math.max(...done.values()) - Math.min(...starts.values());
  await removeTargets(list);
  return { latencies, spanMs };
}

/** dockernet warp (compiled) as a daemon: route-in-place times from its audit log lines. */
async function dockernetRound(network: string, round: number, daemon: Daemon): Promise<{ latencies: number[]; spanMs: number; list: Docker.Container[]; windows: number[] }> {
  const list = await createTargets(`dn${round}`, network);
  const prefix = `dn${round}-`;
  const routed = () => daemon.find((line) => line.msg === "route changed" && String(line.container).startsWith(prefix) && String(line.command).includes("route replace default"));
  const since = Date.now();
  await Promise.all(list.map((container) => container.start()));
  await waitFor("dockernet to route every target", () => routed().length >= targets, 60_000);
  const starts = await startEvents(since);
  const done = new Map(routed().map((line) => [String(line.container), Date.parse(line.time)]));
  const latencies = [...done].map(([name, at]) => at - (starts.get(name) ?? Number.NaN));
  const spanMs = Math.max(...done.values()) - Math.min(...starts.values());
  // The start window: from the target's own command running (its network is up by then) to
  // dockernet's route being in place; traffic in that window uses Docker's route.
  const pids = new Map(routed().map((line) => [String(line.container), Number(line.pid)]));
  const windows = [...done].map(([name, at]) => at - commandStartMs(pids.get(name) ?? 0));
  return { latencies, spanMs, list, windows };
}

/** /proc/uptime's first field in ms, and the epoch offset that turns it into wall-clock time. */
function uptimeMs(text = readFileSync("/proc/uptime", "utf8")): number {
  return Number(text.split(" ")[0]) * 1000;
}
const uptimeToEpoch = Date.now() - uptimeMs();

/** When the target's own command first ran (it writes /proc/uptime to /tmp/started), as epoch ms. */
function commandStartMs(pid: number): number {
  return uptimeToEpoch + uptimeMs(readFileSync(`/proc/${pid}/root/tmp/started`, "utf8"));
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

try {
  const net = await engine.network("bench", { subnet: "10.62.0.0/16" });
  const warp = await engine.run("warp-1", { network: net.name });
  const via = await warp.ip(net.name);
  const floor = { latencies: [] as number[], spans: [] as number[] };
  const ours = { latencies: [] as number[], spans: [] as number[], windows: [] as number[] };
  let lastRss = 0;
  let leanRss = 0;
  for (let round = 0; round < rounds; round++) {
    const f = await floorRound(net.name, via, round);
    floor.latencies.push(...f.latencies);
    floor.spans.push(f.spanMs);
    const daemon = await Daemon.start(engine, ["warp"]);
    const d = await dockernetRound(net.name, round, daemon);
    ours.latencies.push(...d.latencies);
    ours.spans.push(d.spanMs);
    ours.windows.push(...d.windows);
    await sleep(3000); // idle: the burst is over
    lastRss = rssMb(daemon.pid);
    await daemon.stop();
    if (round === rounds - 1) {
      // The same targets held by a daemon without JSC's optimizing (DFG/FTL) JIT, whose compiler
      // code is most of the difference between an idle and a busy-then-idle process.
      const lean = await Daemon.start(engine, ["warp"], { env: { BUN_JSC_useDFGJIT: "0" } });
      await sleep(3000);
      leanRss = rssMb(lean.pid);
      await lean.stop();
    }
    await removeTargets(d.list);
  }
  const perFloor = quantile(floor.spans, 0.5) / targets;
  const perOurs = quantile(ours.spans, 0.5) / targets;
  console.log(`\nwarp event-to-route, ${targets} targets started at once, ${rounds} rounds (floor = inspect + nsenter ip route replace)`);
  report("floor p50 / p99", `${fmt(quantile(floor.latencies, 0.5))} / ${fmt(quantile(floor.latencies, 0.99))}`);
  report("dockernet p50 / p99", `${fmt(quantile(ours.latencies, 0.5))} / ${fmt(quantile(ours.latencies, 0.99))}   (targets: p99 <= 250 ms at 50, <= 300 ms at 100)`);
  report("ratio p50 / p99 (dockernet / floor)", `${ratio(quantile(ours.latencies, 0.5), quantile(floor.latencies, 0.5))} / ${ratio(quantile(ours.latencies, 0.99), quantile(floor.latencies, 0.99))}`);
  report("per-container cost (burst span / targets)", `floor ${fmt(perFloor)}, dockernet ${fmt(perOurs)}, ratio ${ratio(perOurs, perFloor)}   (target: <= 1.5x)`);
  report("start window (command start -> route) p50 / p99", `${fmt(quantile(ours.windows, 0.5))} / ${fmt(quantile(ours.windows, 0.99))}   (10 ms resolution; Docker's route in use)`);
  report(`idle RSS of dockernet warp with ${targets} targets`, `${lastRss.toFixed(1)} MB   (target: <= 60 MB at 50)`);
  report("  the same with BUN_JSC_useDFGJIT=0", `${leanRss.toFixed(1)} MB`);
} finally {
  await engine.stop();
}
