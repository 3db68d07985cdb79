/**
 * dockernet as Docker's OCI runtime, on a real engine: the compiled binary registered with
 * `warp runtime install --daemon-json` in the engine's own daemon config, dockerd reloaded with
 * SIGHUP. A target under the runtime is routed before its first instruction; everything else
 * behaves as under runc.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { Daemon, dockernet, dockernetCommand, dockernetEnv, repoRoot } from "../support/dockernet.ts";
import { useTestEngine, type TestContainer } from "../support/engine.ts";
import { startLeakCounter } from "../support/outside.ts";
import { nextHop } from "../support/routing.ts";

setDefaultTimeout(240_000);

const binary = join(repoRoot, "dist/dockernet");
// An upstream resolver of its own, not on the loopback (whatever the machine's is): lookups are asked from the target's namespace.
const engine = useTestEngine({ name: "dntest-wrt", subnet: 124, resolvConf: "nameserver 192.0.2.53\n" });
const target = (warp: string, extra: Record<string, string> = {}) => ({ "network.warp.target": warp, ...extra });

beforeAll(async () => {
  // Docker runs the runtime itself (through containerd's shim): it must be the compiled binary.
  if (!existsSync(binary)) throw new Error(`${binary} is missing: build it first (node_modules/.bin/bun test/support/build-binary.ts; npm test does)`);
  await writeFile(engine.daemonJson, `${JSON.stringify({ "max-concurrent-downloads": 2, runtimes: { spare: { path: "runc" } } }, null, 2)}\n`);
  await engine.installRuntime(binary);
});

/** Starts `count` targets at once, each pinging `address` from its first instruction (20 packets, 10 ms apart), and waits for them to end. */
async function pingBurst(count: number, options: { runtime: string; network: string; address: string }): Promise<void> {
  const ping = ["ping", "-c", "20", "-i", "0.01", "-W", "1", options.address];
  const names = Array.from({ length: count }, (_, index) => `t-${options.runtime}-${index}`);
  await Promise.all(names.map((name) => engine.run(name, { network: options.network, labels: target("warp-1"), cmd: ping, runtime: options.runtime })));
  await engine.docker(["wait", ...names]);
}

describe("not one packet outside warp", () => {
  test("20 targets pinging from their first instruction: 0 packets by Docker's route under the runtime, some under runc", async () => {
    await using leaks = await startLeakCounter(engine);
    const net = await engine.network("vpn", { subnet: "10.124.1.0/24" });
    await engine.run("warp-1", { network: net.name });
    await using daemon = await Daemon.start(engine, ["warp"]);

    await pingBurst(20, { runtime: "dockernet", network: net.name, address: leaks.address });
    expect(await leaks.count()).toBe(0);
    // The daemon found the runtime's targets already as planned: it changed nothing in them.
    const changedByDaemon = (prefix: string) => daemon.find((line) => line.msg === "route changed" && String(line.container).startsWith(prefix));
    expect(changedByDaemon("t-dockernet-")).toEqual([]);

    // The same burst under runc, the daemon alone routing each target after its start event.
    await pingBurst(20, { runtime: "runc", network: net.name, address: leaks.address });
    const leaked = await leaks.count();
    expect(changedByDaemon("t-runc-").length).toBeGreaterThan(0); // control: the daemon's own lines are seen
    console.log(`packets out by Docker's route: 0 of 400 under the runtime, ${leaked} of 400 under runc with the daemon`);
    expect(leaked).toBeGreaterThan(0);
  });
});

describe("fail closed", () => {
  test("the daemon not running: the runtime alone routes a target before it starts", async () => {
    const net = await engine.network("vpn", { subnet: "10.124.2.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    const app = await engine.run("app", { network: net.name, labels: target("warp-1"), runtime: "dockernet" });
    expect(await nextHop(app, "192.0.2.77")).toBe(await warp.ip(net.name));
    // A restart goes through start again, and finds its routes as planned.
    await app.restart();
    expect(await nextHop(app, "192.0.2.77")).toBe(await warp.ip(net.name));
    // `-P`: ports Docker picks at start are in no binding; the runtime keeps them on Docker's route
    // from what the container exposes, as the daemon plans them: one pass of it changes nothing.
    await engine.docker(["run", "-d", "--name", "published", "--label", "dockernet.test=" + engine.runId, "--runtime", "dockernet", "--network", net.name, "--label", "network.warp.target=warp-1", "--expose", "8080", "-P", engine.image, "sleep", "300"]);
    const once = await dockernet(engine, ["warp", "--once", "--log-level", "info"]);
    expect(once.code).toBe(0);
    expect(`${once.stdout}${once.stderr}`).not.toContain("route changed");
  });

  test("the warp container stopped: the target starts blocked, and nothing leaves", async () => {
    await using leaks = await startLeakCounter(engine);
    const net = await engine.network("vpn", { subnet: "10.124.3.0/24" });
    await engine.run("warp-1", { network: net.name, detachOnly: true });
    const ping = ["sh", "-c", `ping -c 5 -i 0.01 -W 1 ${leaks.address}; sleep 60`];
    const app = await engine.run("app", { network: net.name, labels: target("warp-1"), runtime: "dockernet", cmd: ping });
    expect(await nextHop(app, leaks.address)).toBe("unreachable");
    await Bun.sleep(300);
    expect(await leaks.count()).toBe(0);
    // Its lookups (to the engine's upstream, routed) go nowhere either, and status says so.
    const [command, prefix] = dockernetCommand();
    const status = await exec("nsenter", [`--mount=${engine.mountNamespace}`, command, ...prefix, "warp", "status", "--json"], { env: dockernetEnv(engine), allowFail: true });
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ target: "app", state: "ok", dns: { servers: [{ server: "192.0.2.53", via: "blocked" }] } });
  });

  test("a bad label: the start fails with dockernet's reason (container, label, value)", async () => {
    const net = await engine.network("vpn", { subnet: "10.124.4.0/24" });
    await engine.run("warp-1", { network: net.name });
    const created = await engine.docker(["create", "--name", "bad", "--label", "dockernet.test=" + engine.runId, "--runtime", "dockernet", "--network", net.name, "--label", "network.warp.target=warp-1", "--label", "network.warp.routes=10.0.0.0/33", engine.image]);
    const started = await engine.docker(["start", created.stdout.trim()], { allowFail: true });
    expect(started.code).not.toBe(0);
    expect(started.stderr).toContain("dockernet: container bad: label network.warp.routes");
    expect(started.stderr).toContain("10.0.0.0/33");
    expect((await engine.docker(["inspect", "--format", "{{.State.Running}}", "bad"])).stdout.trim()).toBe("false");
  });

  test("a label naming the target itself: the start fails with the reason, not waiting on its own inspect", async () => {
    const net = await engine.network("vpn", { subnet: "10.124.7.0/24" });
    const created = await engine.docker(["create", "--name", "warp-self", "--label", "dockernet.test=" + engine.runId, "--runtime", "dockernet", "--network", net.name, "--label", "network.warp.target=warp-self", engine.image]);
    const id = created.stdout.trim();
    const started = await engine.docker(["start", id], { allowFail: true });
    expect(started.code).not.toBe(0);
    expect(started.stderr).toContain("dockernet: container warp-self: label network.warp.target: a container cannot be its own warp container");
    expect((await engine.docker(["inspect", "--format", "{{.State.Running}}", id])).stdout.trim()).toBe("false");
  });

  test("a target in another container's namespace (--network container:X): the start fails, as the daemon's plan does", async () => {
    const net = await engine.network("vpn", { subnet: "10.124.8.0/24" });
    await engine.run("warp-1", { network: net.name });
    await engine.run("host-ns", { network: net.name });
    // Docker mounts the other container's hostname file into this one: the runtime must still find this one's files.
    const created = await engine.docker(["create", "--name", "guest", "--label", "dockernet.test=" + engine.runId, "--runtime", "dockernet", "--network", "container:host-ns", "--label", "network.warp.target=warp-1", engine.image]);
    const started = await engine.docker(["start", created.stdout.trim()], { allowFail: true });
    expect(started.code).not.toBe(0);
    expect(started.stderr).toContain("dockernet: container guest: network mode container:");
    expect((await engine.docker(["inspect", "--format", "{{.State.Running}}", "guest"])).stdout.trim()).toBe("false");
  });
});

describe("warp status", () => {
  test("per target: its runtime and start window, and where its lookups leave (checked on the wire: into the warp container)", async () => {
    const net = await engine.network("vpn", { subnet: "10.124.6.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    await engine.run("guarded", { network: net.name, labels: target("warp-1"), runtime: "dockernet" });
    const late = await engine.run("late", { network: net.name, labels: target("warp-1") });
    expect((await dockernet(engine, ["warp", "--once"])).code).toBe(0);
    const rows = JSON.parse((await dockernet(engine, ["warp", "status", "--json"])).stdout) as Record<string, unknown>[];
    expect(rows).toMatchObject([
      { target: "guarded", runtime: "dockernet", startWindow: "none", state: "ok" },
      { target: "late", runtime: "runc", startWindow: "until the daemon routes it", state: "ok" },
    ]);
    // A user-defined network: the embedded resolver forwards to the engine's upstream, which is
    // not on the host's loopback, so from the target's namespace: through warp.
    const status = async (args: string[]) => {
      const [command, prefix] = dockernetCommand();
      return (await exec("nsenter", [`--mount=${engine.mountNamespace}`, command, ...prefix, "warp", "status", ...args], { env: dockernetEnv(engine) })).stdout;
    };
    expect(JSON.parse(await status(["--json"]))[1]?.dns).toEqual({ servers: [{ server: "192.0.2.53", via: "warp" }] });
    const table = await status([]);
    expect(table).toContain("START-WINDOW");
    expect(table).toMatch(/^guarded\s.*\sok\s+none\s+\S+:warp$/m);
    expect(table).toMatch(/^late\s.*\sok\s+until-routed\s+\S+:warp$/m);

    // On the wire: a lookup of the routed target reaches the warp container (which answers nothing).
    const udp53 = ["PREROUTING", "-p", "udp", "--dport", "53", "-j", "ACCEPT"];
    expect((await warp.nsExec(["iptables", "-w", "-t", "raw", "-A", ...udp53])).code).toBe(0);
    await late.exec(["ping", "-c", "1", "-W", "1", "dockernet-lookup.example"]);
    const counted = await warp.nsExec(["iptables", "-w", "-t", "raw", "-L", "PREROUTING", "-n", "-v", "-x"]);
    const packets = Number(counted.stdout.split("\n").find((line) => line.includes("dpt:53"))?.trim().split(/\s+/)[0]);
    expect(packets).toBeGreaterThan(0);
  });
});

/** What a scenario printed and how it ended, to compare the runtime with runc. */
async function lifecycle(runtime: string, net: string): Promise<Record<string, unknown>> {
  const run = (args: string[], input?: string) => engine.docker(["run", "--runtime", runtime, "--label", `dockernet.test=${engine.runId}`, "--network", net, ...args], { allowFail: true, ...(input === undefined ? {} : { input }) });
  const seen: Record<string, unknown> = {};
  const exit = await run(["--rm", engine.image, "sh", "-c", "echo out; echo err >&2; exit 3"]);
  seen.exit = [exit.code, exit.stdout, exit.stderr];
  const stdin = await run(["--rm", "-i", engine.image, "cat"], "through stdin\n");
  seen.stdin = [stdin.code, stdin.stdout];
  const tty = await run(["--rm", "-t", engine.image, "sh", "-c", "[ -t 1 ] && echo tty"]);
  seen.tty = [tty.code, tty.stdout.trim()];
  // `-it` needs a terminal on the client's side too: `script` gives it one.
  const docker = `docker -H ${engine.host} run --rm -it --runtime ${runtime} ${engine.image} sh -c 'test -t 0 && echo it && sleep 0.2'`;
  const it = await Bun.$`script -qec ${docker} /dev/null`.env({ ...process.env, DOCKER_CONFIG: join(engine.dir, "cli") }).nothrow().quiet();
  // `script` echoes the terminal's own bytes (a ^@) around the container's output; the sleep keeps a
  // loaded machine's docker from losing the output of a container that ends at once (seen under runc).
  seen.it = [it.exitCode, /(^|\W)it(\W|$)/.test(it.stdout.toString())];

  const trap = "trap 'echo got TERM; exit 7' TERM; trap 'echo got USR1' USR1; echo ready; while true; do sleep 0.1; done";
  const name = `life-${runtime}`;
  await run(["-d", "--name", name, engine.image, "sh", "-c", trap]);
  const container = { exec: (args: string[]) => engine.docker(["exec", name, ...args], { allowFail: true }) } as Pick<TestContainer, "exec">;
  seen.exec = (await container.exec(["sh", "-c", "echo in exec; exit 4"])).code;
  const execIt = await Bun.$`script -qec ${`docker -H ${engine.host} exec -it ${name} sh -c 'test -t 0 && echo it'`} /dev/null`.env({ ...process.env, DOCKER_CONFIG: join(engine.dir, "cli") }).nothrow().quiet();
  seen.execIt = [execIt.exitCode, /(^|\W)it\r?\n/.test(execIt.stdout.toString())];
  await engine.docker(["kill", "-s", "USR1", name]);
  await engine.docker(["pause", name]);
  seen.paused = (await engine.docker(["inspect", "--format", "{{.State.Status}}", name])).stdout.trim();
  await engine.docker(["unpause", name]);
  seen.update = (await engine.docker(["update", "--pids-limit", "64", name], { allowFail: true })).code;
  const started = performance.now();
  await engine.docker(["stop", "-t", "5", name]);
  seen.stopFast = performance.now() - started < 4000; // the trap answered TERM within the grace period
  seen.stopped = (await engine.docker(["inspect", "--format", "{{.State.ExitCode}}", name])).stdout.trim();
  await engine.docker(["restart", "-t", "1", name]);
  seen.restarted = (await engine.docker(["inspect", "--format", "{{.State.Running}} {{.RestartCount}}", name])).stdout.trim();
  await Bun.sleep(300);
  seen.logs = (await engine.docker(["logs", name])).stdout;
  await engine.docker(["rm", "-f", name]);
  seen.removed = (await engine.docker(["ps", "-aq", "--filter", `name=^life-${runtime}$`])).stdout.trim();
  return seen;
}

describe("pass-through", () => {
  test("a container that is not a target behaves exactly as under runc", async () => {
    const net = await engine.network("plain", { subnet: "10.124.5.0/24" });
    const underRunc = await lifecycle("runc", net.name);
    const underDockernet = await lifecycle("dockernet", net.name);
    expect(underRunc).toMatchObject({ exit: [3, "out\n", "err\n"], stdin: [0, "through stdin\n"], tty: [0, "tty"], it: [0, true], exec: 4, execIt: [0, true], paused: "paused", update: 0, stopFast: true, stopped: "7", restarted: "true 0", removed: "" });
    expect(underDockernet).toEqual(underRunc);
  });

  test("install kept the other keys of daemon.json; uninstall restores it", async () => {
    const installed = JSON.parse(await readFile(engine.daemonJson, "utf8"));
    expect(installed).toMatchObject({ "max-concurrent-downloads": 2, runtimes: { spare: { path: "runc" }, dockernet: { path: binary } } });
    expect(installed.runtimes.dockernet.runtimeArgs).toEqual(["warp", "runtime", "oci", "--runc", expect.stringMatching(/\/runc$/), "--docker-host", engine.host, "--"]);
    await engine.uninstallRuntime(binary);
    expect(JSON.parse(await readFile(engine.daemonJson, "utf8"))).toEqual({ "max-concurrent-downloads": 2, runtimes: { spare: { path: "runc" } } });
    await engine.installRuntime(binary);
  });
});
