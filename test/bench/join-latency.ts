/**
 * `dockernet join` (the compiled binary) against a throwaway engine, beside baselines measured in
 * the same run:
 * 1. Burst: N networks each gaining a routable container at once. Latency from Docker's own start
 *    event to the proxy attached (dockernet's "network joined" audit line), p50/p99, beside a floor:
 *    a minimal reactor that does one inspect and one connect per start event and nothing else.
 * 2. `join --once` over M networks x 4 containers (one labelled, one with VIRTUAL_HOST, two plain):
 *    wall time and Docker API calls (counted by a proxy socket), beside a baseline process making
 *    the same calls one after the other. First run (M joins to make), then a run with nothing to do.
 * Usage: bun test/bench/join-latency.ts [burstNetworks=30] [onceNetworks=50] [rounds=2]
 */
import Docker from "dockerode";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { Daemon, dockernet, repoRoot, waitFor } from "../support/dockernet.ts";
import { TestEngine } from "../support/engine.ts";
import { fmt, quantile, ratio, report } from "./_stats.ts";
import { ApiCounter } from "./join-counter.ts";

const burstNetworks = Number(process.argv[2] ?? 30);
const onceNetworks = Number(process.argv[3] ?? 50);
const rounds = Number(process.argv[4] ?? 2);
process.env.DN_TEST_BIN ??= join(repoRoot, "dist/dockernet");

const engine = await TestEngine.start({ name: "dnbench-join", subnet: 96 });
const docker = new Docker({ socketPath: engine.socketPath });
const testLabel = { "dockernet.test": engine.runId };

/** Docker's start event time (ms since epoch) of each container, by name. */
async function startTimes(since: number): Promise<Map<string, number>> {
  const stream = (await docker.getEvents({ since: Math.floor(since / 1000) - 1, until: Math.ceil(Date.now() / 1000) + 1, filters: { type: ["container"], event: ["start"] } })) as NodeJS.ReadableStream;
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  const times = new Map<string, number>();
  for (const line of text.split("\n").filter(Boolean)) {
    const event = JSON.parse(line) as { Actor: { Attributes: { name: string } }; timeNano: number };
    times.set(event.Actor.Attributes.name, event.timeNano / 1e6);
  }
  return times;
}

/** One network per app, apps created (not started): half routable by label, half by env. */
async function createApps(prefix: string, count: number, subnetBase: number): Promise<{ app: Docker.Container; network: string }[]> {
  const created = [];
  for (let i = 0; i < count; i++) {
    const network = `${prefix}-net-${i}`;
    await engine.network(network, { subnet: `10.71.${subnetBase + i}.0/24` });
    const routing = i % 2 ? { Env: ["VIRTUAL_HOST=app.example"] } : { Labels: { ...testLabel, "traefik.http.routers.app.rule": "Host(`app.example`)" } };
    const app = await docker.createContainer({ name: `${prefix}-app-${i}`, Image: engine.image, Labels: testLabel, ...routing, HostConfig: { NetworkMode: network }, StopTimeout: 1 });
    created.push({ app, network });
  }
  return created;
}

async function removeApps(apps: { app: Docker.Container; network: string }[]): Promise<void> {
  const proxy = docker.getContainer("http-proxy");
  await Promise.all(apps.map(({ app }) => app.remove({ force: true })));
  for (const { network } of apps) {
    await docker.getNetwork(network).disconnect({ Container: proxy.id, Force: true }).catch(() => {});
    await docker.getNetwork(network).remove();
  }
}

/** The floor: per start event, inspect the container and connect the proxy to its network. */
async function floorRound(round: number): Promise<number[]> {
  const apps = await createApps(`floor${round}`, burstNetworks, 0);
  const done = new Map<string, number>();
  const stream = (await docker.getEvents({ filters: { type: ["container"], event: ["start"] } })) as NodeJS.ReadableStream & { destroy(): void };
  let rest = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) {
      const { id } = JSON.parse(line) as { id: string };
      void (async () => {
        const info = await docker.getContainer(id).inspect();
        const network = Object.values(info.NetworkSettings.Networks)[0]!.NetworkID;
        await docker.getNetwork(network).connect({ Container: "http-proxy" });
        done.set(info.Name.slice(1), Date.now());
      })();
    }
  });
  const since = Date.now();
  await Promise.all(apps.map(({ app }) => app.start()));
  await waitFor("the floor reactor to attach every network", () => done.size === burstNetworks, 120_000);
  stream.destroy();
  const starts = await startTimes(since);
  await removeApps(apps);
  return [...done].map(([name, at]) => at - (starts.get(name) ?? Number.NaN));
}

/** dockernet join (compiled) as a daemon: attach times from its audit lines. */
async function dockernetRound(round: number): Promise<{ latencies: number[]; scans: string }> {
  const apps = await createApps(`dn${round}`, burstNetworks, 0);
  await using daemon = await Daemon.start(engine, ["join", "--log-level", "debug"], { ready: "join started" });
  const joined = () => daemon.find((line) => line.msg === "network joined" && String(line.network).startsWith(`dn${round}-`));
  const scansBefore = daemon.find((line) => line.msg === "reconciled").length;
  const since = Date.now();
  await Promise.all(apps.map(({ app }) => app.start()));
  await waitFor("dockernet to attach every network", () => joined().length >= burstNetworks, 120_000);
  const starts = await startTimes(since);
  const latencies = joined().map((line) => Date.parse(line.time) - (starts.get(String(line.network).replace("-net-", "-app-")) ?? Number.NaN));
  const runs = daemon.find((line) => line.msg === "reconciled").slice(scansBefore);
  const scans = `${runs.length} (${runs.filter((line) => line.scan === "full").length} full)`;
  await daemon.stop();
  await removeApps(apps);
  return { latencies, scans };
}

/** M networks x (labelled, env, two plain) containers, all running. */
async function onceFixture(): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < onceNetworks; i++) {
    const network = `once-net-${i}`;
    await engine.network(network, { subnet: `10.71.${100 + i}.0/24` });
    const variants = [{ Labels: { ...testLabel, "traefik.http.routers.r.rule": "Host(`x`)" } }, { Env: ["VIRTUAL_HOST=x.example"] }, {}, {}];
    for (const [j, variant] of variants.entries()) {
      const container = await docker.createContainer({ name: `once-${i}-${j}`, Image: engine.image, Labels: testLabel, ...variant, HostConfig: { NetworkMode: network }, StopTimeout: 1 });
      ids.push(container.id);
    }
  }
  for (let i = 0; i < ids.length; i += 10) await Promise.all(ids.slice(i, i + 10).map((id) => docker.getContainer(id).start()));
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await run();
  return { ms: performance.now() - started, result };
}

const counterSocket = join(engine.dir, "counting.sock");
try {
  await engine.run("http-proxy");

  const floor: number[] = [];
  const ours: number[] = [];
  const scans: string[] = [];
  for (let round = 0; round < rounds; round++) {
    floor.push(...(await floorRound(round)));
    const run = await dockernetRound(round);
    ours.push(...run.latencies);
    scans.push(run.scans);
  }
  console.log(`\njoin: start event -> proxy attached, ${burstNetworks} networks each gaining a routable container at once, ${rounds} rounds`);
  console.log("(floor = one inspect + one network connect per start event, nothing else)");
  report("floor p50 / p99", `${fmt(quantile(floor, 0.5))} / ${fmt(quantile(floor, 0.99))}`);
  report("dockernet p50 / p99", `${fmt(quantile(ours, 0.5))} / ${fmt(quantile(ours, 0.99))}   (target: p99 <= 500 ms)`);
  report("ratio p50 / p99 (dockernet / floor)", `${ratio(quantile(ours, 0.5), quantile(floor, 0.5))} / ${ratio(quantile(ours, 0.99), quantile(floor, 0.99))}`);
  report("dockernet reconciles per burst", scans.join(", "));

  await onceFixture();
  const counter = await ApiCounter.start(counterSocket, engine.socketPath);
  const counted = { DOCKER_HOST: `unix://${counterSocket}` };
  const baseline = async (connect: boolean) => {
    const args = [join(repoRoot, "test/bench/join-baseline.ts"), counterSocket, ...(connect ? ["--connect"] : [])];
    const { ms, result } = await timed(() => exec(join(repoRoot, "node_modules/.bin/bun"), args));
    return { ms, inner: JSON.parse(result.stdout) as { ms: number; inspected: number; connected: number }, calls: counter.take() };
  };
  const once = async () => {
    const { ms, result } = await timed(() => dockernet(engine, ["join", "--once"], { env: counted }));
    if (result.code !== 0) throw new Error(`join --once failed: ${result.stderr}`);
    return { ms, calls: counter.take() };
  };
  // First runs join every network; the baseline's connects are undone in between so both start equal.
  const firstBase = await baseline(true);
  for (let i = 0; i < onceNetworks; i++) await docker.getNetwork(`once-net-${i}`).disconnect({ Container: "http-proxy" });
  counter.take();
  const firstOurs = await once();
  const steady = { base: [] as number[], ours: [] as number[], baseCalls: 0, oursCalls: 0, inspected: 0 };
  for (let round = 0; round < 3; round++) {
    const base = await baseline(false);
    const ours2 = await once();
    steady.base.push(base.ms);
    steady.ours.push(ours2.ms);
    steady.baseCalls = base.calls.total;
    steady.oursCalls = ours2.calls.total;
    steady.inspected = base.inner.inspected;
  }
  const med = (values: number[]) => quantile(values, 0.5);
  console.log(`\njoin --once over ${onceNetworks} networks x 4 containers (${onceNetworks * 4} running; baseline = the same calls, one after the other, as a bun process)`);
  report("first run, joins to make: baseline", `${fmt(firstBase.ms)}, ${firstBase.calls.total} API calls (${firstBase.inner.connected} connects)`);
  report("first run, joins to make: dockernet", `${fmt(firstOurs.ms)}, ${firstOurs.calls.total} API calls   ratio ${ratio(firstOurs.ms, firstBase.ms)}`);
  report("nothing to do (median of 3): baseline", `${fmt(med(steady.base))}, ${steady.baseCalls} API calls (${steady.inspected} inspects)`);
  report("nothing to do (median of 3): dockernet", `${fmt(med(steady.ours))}, ${steady.oursCalls} API calls   ratio ${ratio(med(steady.ours), med(steady.base))}   (target: <= 1.0x)`);
  report("dockernet API calls by kind (nothing to do)", JSON.stringify((await once()).calls.byKind));
  await counter.stop();
} finally {
  await engine.stop();
}
