/**
 * Event-to-route latency of `dockernet warp` (the compiled binary) for N targets started at once,
 * beside a floor measured in the same run: a minimal reactor (_floor-reactor.ts) that does one
 * container inspect and one `nsenter -t PID -n ip route replace` per start event and nothing else.
 * Both are processes of their own, started fresh for each round, and both are timed from Docker's
 * own start event time to their "route changed" log line. Rounds alternate the reactors and rotate
 * which one goes first, so neither always meets the engine in the same state; each round's p50 is
 * printed, because one round's ratio on a shared machine is noise, and so is a 90% interval of each
 * ratio from resampling the rounds (how far other rounds like these could move it). Also: the idle RSS of each
 * build's daemon holding those targets after its last burst.
 *
 * DN_BENCH_BINS=before=PATH,after=PATH measures several dockernet builds in the same rounds
 * (default: the one binary of DN_TEST_BIN, else dist/dockernet). An entry whose PATH is `floor`
 * (`again=floor`) is a second copy of the floor: its ratio to the floor is the run's own noise.
 * DN_BENCH_PAIRED=1 runs the floor and the (first) build at once on the same bursts instead, the
 * floor replacing a host route of its own (192.0.2.1/32) so the two never race for one route: each
 * target's two latencies come from the same moment of the engine, which rounds minutes apart do not.
 * Usage: bun test/bench/warp-latency.ts [targets=50] [rounds=4]
 */
import Docker from "dockerode";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "../support/_exec.ts";
import { Daemon, repoRoot, waitFor } from "../support/dockernet.ts";
import { TestEngine } from "../support/engine.ts";
import { fmt, quantile, ratio, report, roundRatioInterval } from "./_stats.ts";

const targets = Number(process.argv[2] ?? 50);
const rounds = Number(process.argv[3] ?? 4);
process.env.DN_TEST_BIN ??= join(repoRoot, "dist/dockernet");

/** A reactor under test: the floor, or a dockernet build. */
interface Reactor {
  label: string;
  command: [string, string[]];
  args: (via: string) => string[];
  ready: string;
  dockernet: boolean;
}

const floorReactor: Reactor = {
  label: "floor",
  command: [process.execPath, [join(repoRoot, "test/bench/_floor-reactor.ts")]],
  args: (via) => [via],
  ready: "floor ready",
  dockernet: false,
};
const builds: Reactor[] = (process.env.DN_BENCH_BINS ?? `dockernet=${process.env.DN_TEST_BIN}`).split(",").map((entry) => {
  const [label = "", path = ""] = entry.split("=");
  if (path === "floor") return { ...floorReactor, label };
  return { label, command: [path, []], args: () => ["warp"], ready: "warp started", dockernet: true };
});

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
  await bounded("removing the round's targets", Promise.all(list.map((container) => container.remove({ force: true }))));
}

/**
 * A step of the bench that must not wait for ever (dockerode calls have no timeout of their own;
 * a run hung once, without a word, after its last round): fails naming the step instead.
 */
async function bounded<T>(step: string, work: Promise<T>, ms = 120_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench step did not finish within ${ms} ms: ${step}`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Round {
  /** CPU time the reactor used (user + system) from just before the starts to the last route, per target. */
  cpuMs: number;
  /** The same, the process alone (its children's share is cpuMs - this). */
  selfCpuMs: number;
  latencies: number[];
  spanMs: number;
  windows: number[];
  list: Docker.Container[];
}

/** A reactor's "route changed" lines for the targets named `prefix-N` whose command holds `marker`. */
function routedLines(daemon: Daemon, prefix: string, marker = "route replace default") {
  return daemon.find((line) => line.msg === "route changed" && String(line.container).startsWith(`${prefix}-`) && String(line.command).includes(marker));
}

/** Starts `targets` targets at once under a running reactor: route-in-place times from its "route changed" lines. */
async function measureRound(network: string, prefix: string, reactor: Daemon): Promise<Round> {
  const list = await createTargets(prefix, network);
  const routed = () => routedLines(reactor, prefix);
  const cpuBefore = cpuMs(reactor.pid);
  const selfBefore = cpuMs(reactor.pid, false);
  const since = Date.now();
  await bounded("starting the targets", Promise.all(list.map((container) => container.start())));
  await waitFor(`${prefix} to route every target`, () => routed().length >= targets, 60_000).catch((error: unknown) => {
    // Say what the reactor did instead: its last lines name the targets it could not route.
    throw new Error(`${(error as Error).message}; ${routed().length} routed; its last lines:\n${reactor.stderr.slice(-10).join("\n")}`);
  });
  const cpu = (cpuMs(reactor.pid) - cpuBefore) / targets;
  const selfCpu = (cpuMs(reactor.pid, false) - selfBefore) / targets;
  const starts = await bounded("reading the start events", startEvents(since));
  const done = new Map(routed().map((line) => [String(line.container), Date.parse(line.time)]));
  const latencies = [...done].map(([name, at]) => at - (starts.get(name) ?? Number.NaN));
  const spanMs = Math.max(...done.values()) - Math.min(...starts.values());
  // The start window: from the target's own command running (its network is up by then) to the
  // route being in place; traffic in that window uses Docker's route.
  const pids = new Map(routed().map((line) => [String(line.container), Number(line.pid)]));
  const windows = [...done].map(([name, at]) => at - commandStartMs(pids.get(name) ?? 0));
  return { cpuMs: cpu, selfCpuMs: selfCpu, latencies, spanMs, windows, list };
}

/** The floor and `ours` routing the same burst: each target's latency under both. */
async function measurePaired(network: string, prefix: string, floor: Daemon, ours: Daemon): Promise<{ pairs: { floor: number; ours: number }[]; list: Docker.Container[] }> {
  const list = await createTargets(prefix, network);
  const since = Date.now();
  await bounded("starting the targets", Promise.all(list.map((container) => container.start())));
  await waitFor(`${prefix} routed by both`, () => routedLines(floor, prefix, pairedDestination).length >= targets && routedLines(ours, prefix).length >= targets, 60_000);
  const starts = await bounded("reading the start events", startEvents(since));
  const times = (daemon: Daemon, marker?: string) => new Map(routedLines(daemon, prefix, marker).map((line) => [String(line.container), Date.parse(line.time)]));
  const floorAt = times(floor, pairedDestination);
  const pairs = [...times(ours)].map(([name, at]) => {
    const start = starts.get(name) ?? Number.NaN;
    return { ours: at - start, floor: (floorAt.get(name) ?? Number.NaN) - start };
  });
  return { pairs, list };
}

const pairedDestination = "192.0.2.1/32";

/** /proc/uptime's first field in ms, and the epoch offset that turns it into wall-clock time. */
function uptimeMs(text = readFileSync("/proc/uptime", "utf8")): number {
  return Number(text.split(" ")[0]) * 1000;
}
const uptimeToEpoch = Date.now() - uptimeMs();

/** When the target's own command first ran (it writes /proc/uptime to /tmp/started), as epoch ms. */
function commandStartMs(pid: number): number {
  return uptimeToEpoch + uptimeMs(readFileSync(`/proc/${pid}/root/tmp/started`, "utf8"));
}

/** User + system CPU time of a process and, unless `children` is false, of its children it waited for, in ms. */
function cpuMs(pid: number, children = true): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime, stime, cutime, cstime are fields 14-17 of stat(5); here counted from field 3 (state).
  const ticks = (children ? [11, 12, 13, 14] : [11, 12]).reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
  return (ticks * 1000) / 100;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** Everything measured of one reactor over all rounds. */
interface Totals {
  /** Each round's latencies, in round order. */
  rounds: number[][];
  spans: number[];
  windows: number[];
  cpuMs: number[];
  selfCpuMs: number[];
}

try {
  const net = await engine.network("bench", { subnet: "10.62.0.0/16" });
  const warp = await engine.run("warp-1", { network: net.name });
  const via = await warp.ip(net.name);
  if (process.env.DN_BENCH_PAIRED) {
    const ours = builds[0] as Reactor;
    const all: { floor: number; ours: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      // Started in turns, each first every other round; both are ready before the burst.
      const order = round % 2 === 0 ? [floorReactor, ours] : [ours, floorReactor];
      const running = new Map<Reactor, Daemon>();
      for (const reactor of order) {
        const args = reactor === floorReactor ? [via, pairedDestination] : reactor.args(via);
        running.set(reactor, await Daemon.start(engine, args, { command: reactor.command, ready: reactor.ready }));
      }
      const measured = await measurePaired(net.name, `paired${round}`, running.get(floorReactor) as Daemon, running.get(ours) as Daemon);
      all.push(...measured.pairs);
      const p50 = (pick: (pair: { floor: number; ours: number }) => number) => quantile(measured.pairs.map(pick), 0.5);
      console.log(`round ${round + 1} p50: floor ${fmt(p50((pair) => pair.floor))}, ${ours.label} ${fmt(p50((pair) => pair.ours))}, ratio ${ratio(p50((pair) => pair.ours), p50((pair) => pair.floor))}`);
      for (const daemon of running.values()) await daemon.stop();
      await removeTargets(measured.list);
    }
    const of = (pick: (pair: { floor: number; ours: number }) => number, q: number) => quantile(all.map(pick), q);
    console.log(`\nwarp event-to-route, ${targets} targets started at once, ${rounds} rounds, the floor and ${ours.label} on the same bursts`);
    report("floor p50 / p99", `${fmt(of((pair) => pair.floor, 0.5))} / ${fmt(of((pair) => pair.floor, 0.99))}`);
    report(`${ours.label} p50 / p99`, `${fmt(of((pair) => pair.ours, 0.5))} / ${fmt(of((pair) => pair.ours, 0.99))}`);
    report(`ratio p50 / p99 (${ours.label} / floor)`, `${ratio(of((pair) => pair.ours, 0.5), of((pair) => pair.floor, 0.5))} / ${ratio(of((pair) => pair.ours, 0.99), of((pair) => pair.floor, 0.99))}   (target: <= 1.1x / <= 1.2x)`);
    report("per target, ours - floor: p50 / p90", `${fmt(quantile(all.map((pair) => pair.ours - pair.floor), 0.5))} / ${fmt(quantile(all.map((pair) => pair.ours - pair.floor), 0.9))}`);
  } else {
    const reactors = [floorReactor, ...builds];
    // The rotation puts each reactor first, second... equally often only over a multiple of their number.
    if (rounds % reactors.length !== 0) console.log(`note: ${rounds} rounds for ${reactors.length} reactors leaves the rotation unbalanced; a multiple of ${reactors.length} balances it`);
    const totals = new Map<Reactor, Totals>(reactors.map((reactor) => [reactor, { rounds: [], spans: [], windows: [], cpuMs: [], selfCpuMs: [] }]));
    /** Each build's idle RSS after its last round's burst, targets still running (sampled in that round only). */
    const idleRss = new Map<Reactor, number>();
    let leanRss = 0;
    for (let round = 0; round < rounds; round++) {
      const order = [...reactors.slice(round % reactors.length), ...reactors.slice(0, round % reactors.length)];
      const shown: string[] = [];
      for (const reactor of order) {
        const running = await Daemon.start(engine, reactor.args(via), { command: reactor.command, ready: reactor.ready });
        const measured = await measureRound(net.name, `${reactor.label}${round}`, running);
        const total = totals.get(reactor) as Totals;
        total.rounds.push(measured.latencies);
        total.spans.push(measured.spanMs);
        total.windows.push(...measured.windows);
        total.cpuMs.push(measured.cpuMs);
        total.selfCpuMs.push(measured.selfCpuMs);
        shown.push(`${reactor.label} ${fmt(quantile(measured.latencies, 0.5))} (max ${fmt(Math.max(...measured.latencies))})`);
        if (reactor.dockernet && round === rounds - 1) {
          await sleep(3000); // idle: the burst is over
          idleRss.set(reactor, rssMb(running.pid));
        }
        await running.stop();
        if (reactor === builds[0] && reactor.dockernet && round === rounds - 1) {
          // The same targets held by a daemon without JSC's optimizing (DFG/FTL) JIT, whose compiler
          // code is most of the difference between an idle and a busy-then-idle process.
          const lean = await Daemon.start(engine, ["warp"], { command: reactor.command, env: { BUN_JSC_useDFGJIT: "0" } });
          await sleep(3000);
          leanRss = rssMb(lean.pid);
          await lean.stop();
        }
        await removeTargets(measured.list);
      }
      console.log(`round ${round + 1} p50: ${shown.join(", ")}`);
    }
    const floor = totals.get(floorReactor) as Totals;
    const all = (total: Totals) => total.rounds.flat();
    const roundP50s = (total: Totals) => total.rounds.map((latencies) => quantile(latencies, 0.5));
    const perFloor = quantile(floor.spans, 0.5) / targets;
    console.log(`\nwarp event-to-route, ${targets} targets started at once, ${rounds} alternating rounds (floor = inspect + nsenter ip route replace, its own process)`);
    report("floor p50 / p99", `${fmt(quantile(all(floor), 0.5))} / ${fmt(quantile(all(floor), 0.99))}`);
    report("floor CPU per target (process + its children)", `${fmt(quantile(floor.cpuMs, 0.5))} (the process alone ${fmt(quantile(floor.selfCpuMs, 0.5))})`);
    for (const build of builds) {
      const ours = totals.get(build) as Totals;
      const perOurs = quantile(ours.spans, 0.5) / targets;
      report(`${build.label} p50 / p99`, `${fmt(quantile(all(ours), 0.5))} / ${fmt(quantile(all(ours), 0.99))}   (targets: p99 <= 250 ms at 50, <= 300 ms at 100)`);
      report(`ratio p50 / p99 (${build.label} / floor)`, `${ratio(quantile(all(ours), 0.5), quantile(all(floor), 0.5))} / ${ratio(quantile(all(ours), 0.99), quantile(all(floor), 0.99))}   (target: <= 1.1x / <= 1.2x)`);
      const interval = (q: number) => roundRatioInterval(ours.rounds, floor.rounds, q).map((value) => value.toFixed(2)).join("-");
      report(`  90% interval (${build.label} / floor, rounds resampled)`, `${interval(0.5)}x / ${interval(0.99)}x   (how far other rounds like these could move it${rounds < 10 ? "; rough with under 10 rounds" : ""})`);
      report(`${build.label} CPU per target (process + its children)`, `${fmt(quantile(ours.cpuMs, 0.5))} (the process alone ${fmt(quantile(ours.selfCpuMs, 0.5))}), ratio ${ratio(quantile(ours.cpuMs, 0.5), quantile(floor.cpuMs, 0.5))}`);
      report("per-round p50 ratios", roundP50s(ours).map((p50, index) => ratio(p50, roundP50s(floor)[index] ?? Number.NaN)).join(" "));
      report("per-container cost (burst span / targets)", `floor ${fmt(perFloor)}, ${build.label} ${fmt(perOurs)}, ratio ${ratio(perOurs, perFloor)}   (target: <= 1.5x)`);
      report("start window (command start -> route) p50 / p99", `${fmt(quantile(ours.windows, 0.5))} / ${fmt(quantile(ours.windows, 0.99))}   (10 ms resolution; Docker's route in use)`);
      if (build.dockernet) report(`${build.label} idle RSS with ${targets} targets (after the last burst)`, `${(idleRss.get(build) ?? 0).toFixed(1)} MB   (target: <= 60 MB at 50)`);
    }
    if (builds[0]?.dockernet) report(`${builds[0].label} idle RSS with BUN_JSC_useDFGJIT=0 (after its startup scan)`, `${leanRss.toFixed(1)} MB`);
  }
} finally {
  await engine.stop();
}
