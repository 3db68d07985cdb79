/**
 * bridge's figures beside baselines measured in the same run, against a second host with its own
 * engine and a real sshd (machines here are noisy: this prints, it does not assert):
 * - `docker ps` through the bridge beside `DOCKER_HOST=ssh://` to the same host (the docker CLI's
 *   own ssh support: one `ssh ... docker system dial-stdio` per command; target: <= 0.1x);
 * - per call, a new connection per Docker API call as the docker CLI makes them (`GET /_ping`,
 *   written at once), alternating in one run: the bridge beside `ssh -L` to the remote Docker
 *   socket on one persistent OpenSSH connection (target p50 <= 1.1x) and the engine's own socket:
 *   p50, p99, and p50 with 20 concurrent clients. The `ssh -L` baseline runs a remote command
 *   beside its forward: sshd turns Nagle off on its connection only once a session starts, so a
 *   bare `ssh -N -L` waits a delayed ACK (about 40 ms) before each channel's EOF; that one is
 *   printed too, as what a plain `ssh -fNL` user gets;
 * - a download through a forwarded port beside OpenSSH `ssh -L` (same kind of connection) over the
 *   same veth to the same container port (target: >= 1.0x its throughput);
 * - idle RSS of the compiled bridge (dist/dockernet) with 20 forwards, beside the same with none.
 * Usage: bun test/bench/bridge.ts [docker ps rounds=20] [download MB=300] [forwards=20] [binary=dist/dockernet]
 * (another binary, e.g. one built from main into a temp dir, gives a before/after of the same machine)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection, type NetConnectOpts } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, sleep, which } from "../support/_exec.ts";
import { BridgeRun, httpBody, httpdCommand } from "../support/bridge-harness.ts";
import { repoRoot, waitFor } from "../support/dockernet.ts";
import { buildTestImage } from "../support/image.ts";
import { RemoteHost } from "../support/remote-host.ts";
import { fmt, quantile, ratio, report } from "./_stats.ts";

const rounds = Number(process.argv[2] ?? 20);
const downloadMb = Number(process.argv[3] ?? 300);
const forwardCount = Number(process.argv[4] ?? 20);
const BENCH_IMAGE = "dockernet-bench:busybox";
const binary = process.argv[5] ?? join(repoRoot, "dist/dockernet");

const docker = (await which("docker")) ?? "docker";
const curl = (await which("curl")) ?? "curl";
const ssh = (await which("ssh")) ?? "ssh";

/** Wall times of `rounds` sequential runs of `docker ps` with `env`. */
async function dockerPs(env: NodeJS.ProcessEnv): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await exec(docker, ["ps"], { env, timeoutMs: 30_000 });
    times.push(performance.now() - started);
  }
  return times;
}

/** Bytes per second of one `curl` download of http://127.0.0.1:PORT/big (its own figure). */
async function download(port: number): Promise<number> {
  const result = await exec(curl, ["-s", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", `http://127.0.0.1:${port}/big`], { timeoutMs: 300_000 });
  const [size, speed] = result.stdout.trim().split(" ").map(Number);
  if (size !== downloadMb * 1024 * 1024) throw new Error(`downloaded ${size} bytes, expected ${downloadMb} MiB`);
  return speed ?? 0;
}

/** True once something accepts connections on 127.0.0.1:port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** One Docker API call on a new connection (as the docker CLI makes them): its wall time in ms. */
function pingOnce(target: NetConnectOpts): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = createConnection(target);
    // As the docker CLI's (Go's) TCP connections: no Nagle delay on the request.
    if ("port" in target) socket.setNoDelay(true);
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.once("end", () => {
      socket.destroy();
      if (!answer.startsWith("HTTP/1.0 200") && !answer.startsWith("HTTP/1.1 200")) reject(new Error(`no 200 from /_ping: ${answer.slice(0, 60)}`));
      else resolve(performance.now() - started);
    });
    socket.once("error", reject);
    socket.write("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n");
  });
}

/** Per-call times of each target, alternating call by call (the machine's noise hits all alike); `concurrency` clients at once. */
async function perCall(targets: NetConnectOpts[], calls: number, concurrency: number): Promise<number[][]> {
  const times: number[][] = targets.map(() => []);
  for (let i = 0; i < calls; i++) {
    for (const [t, target] of targets.entries()) {
      const batch = await Promise.all(Array.from({ length: concurrency }, () => pingOnce(target)));
      times[t]!.push(...batch);
    }
  }
  return times;
}

/**
 * `ssh -L forward` on one persistent OpenSSH connection. With `session`, a remote `cat` runs beside
 * the forward (as with an interactive login): sshd sets TCP_NODELAY on its side only when a session
 * starts, and without it every channel's EOF waits for the client's delayed ACK (~40 ms).
 */
function sshTunnel(args: string[], forward: string, session: boolean): ChildProcess {
  const tail = session ? ["-T", "-L", forward, `root@${remote.address}`, "cat"] : ["-N", "-L", forward, `root@${remote.address}`];
  return spawn(ssh, [...args, ...tail], { stdio: ["pipe", "ignore", "ignore"] });
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
}

const mb = (bytesPerSecond: number) => `${(bytesPerSecond / 1024 / 1024).toFixed(1)} MiB/s`;

const remote = await RemoteHost.start({ name: "dnbench-remote", subnet: 127 });
const work = await mkdtemp(join(tmpdir(), "dnbridge-bench-"));
const lines: string[] = [];
try {
  const base = 25_000 + Math.floor(Math.random() * 40) * 100;
  if (!existsSync(binary)) throw new Error(`${binary} not found: run node_modules/.bin/bun test/support/build-binary.ts first`);
  await buildTestImage((args, options) => remote.engine.docker(args, options), BENCH_IMAGE, { applets: ["dd"] });
  const bridge = await BridgeRun.start(remote, { command: [binary, []] });
  try {
    // 1. Idle RSS of the compiled bridge: no forwards, then `forwardCount` of them.
    await sleep(2000);
    const idleNone = await rssKb(bridge.daemon.pid);
    for (let i = 0; i < forwardCount; i++) {
      await remote.engine.run(`bench-fwd-${i}`, { publish: [`${base + 10 + i}:80`], cmd: httpdCommand(`fwd-${i}`) });
    }
    await waitFor(`${forwardCount} forwards`, async () => (await bridge.status()).forwards.length >= forwardCount, 60_000, 200);
    for (let i = 0; i < forwardCount; i++) await httpBody(base + 10 + i, 30_000); // each used once
    await sleep(3000);
    const idleForwards = await rssKb(bridge.daemon.pid);
    lines.push(report("idle RSS of dist/dockernet bridge, no forwards", `${(idleNone / 1024).toFixed(1)} MiB`));
    lines.push(report(`idle RSS of dist/dockernet bridge, ${forwardCount} forwards`, `${(idleForwards / 1024).toFixed(1)} MiB`));
    lines.push(report(`RSS with ${forwardCount} forwards / with none`, ratio(idleForwards, idleNone)));

    // 2. docker ps: through the bridge, and with the docker CLI's own ssh:// (ssh from PATH: a
    // wrapper that gives OpenSSH this host's known_hosts; the key comes from an ssh-agent).
    const knownHosts = join(work, "known_hosts");
    await writeFile(knownHosts, remote.knownHostsLine);
    const bin = join(work, "bin");
    await exec("mkdir", ["-p", bin]);
    await writeFile(join(bin, "ssh"), `#!/bin/sh\nexec ${ssh} -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes "$@"\n`);
    await chmod(join(bin, "ssh"), 0o755);
    const agent = await remote.agent();
    const cli = { PATH: process.env.PATH, HOME: join(bridge.dir, "home"), DOCKER_CONFIG: join(work, "docker-cli"), DOCKER_CLI_HINTS: "false" };
    const viaBridge = { ...cli, DOCKER_HOST: `unix://${bridge.socket}` };
    const viaSsh = { ...cli, PATH: `${bin}:${process.env.PATH}`, SSH_AUTH_SOCK: agent, DOCKER_HOST: `ssh://root@${remote.address}:22` };
    const direct = { ...cli, DOCKER_HOST: remote.engine.host };
    await dockerPs(viaBridge); // warm the bridge once
    const bridged = await dockerPs(viaBridge);
    const local = await dockerPs(direct);
    lines.push(report(`docker ps through the bridge (p50 of ${rounds})`, fmt(quantile(bridged, 0.5))));
    lines.push(report("docker ps on the remote engine's own socket (p50)", fmt(quantile(local, 0.5))));
    // `docker system dial-stdio` on the server depends on its own docker CLI: when it hangs, say so and go on.
    try {
      await exec(docker, ["ps"], { env: viaSsh, timeoutMs: 30_000 });
      const sshed = await dockerPs(viaSsh);
      lines.push(report("docker ps with DOCKER_HOST=ssh:// (p50)", fmt(quantile(sshed, 0.5))));
      lines.push(report("bridge / ssh:// wall time (target <= 0.1x)", ratio(quantile(bridged, 0.5), quantile(sshed, 0.5))));
    } catch (error) {
      lines.push(report("docker ps with DOCKER_HOST=ssh://", `failed: ${(error as Error).message.slice(0, 120)}`));
    }

    // 3. Per call: the bridge beside ssh -L to the remote Docker socket on one persistent OpenSSH connection.
    const sshArgs = ["-i", remote.identityFile, "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"];
    const pingPort = base + 92;
    const barePort = base + 93;
    const pingTunnel = sshTunnel(sshArgs, `127.0.0.1:${pingPort}:${remote.engine.socketPath}`, true);
    const bareTunnel = sshTunnel(sshArgs, `127.0.0.1:${barePort}:${remote.engine.socketPath}`, false);
    try {
      await waitFor("the ssh -L tunnels to the Docker socket", async () => (await answers(pingPort)) && (await answers(barePort)), 10_000, 50);
      const targets: NetConnectOpts[] = [{ path: bridge.socket }, { host: "127.0.0.1", port: pingPort }, { path: remote.engine.socketPath }];
      await perCall(targets, 20, 1); // warm-up
      const [viaBridgeCalls, viaTunnelCalls, directCalls] = (await perCall(targets, rounds * 10, 1)) as [number[], number[], number[]];
      const [bridgeBusy, tunnelBusy] = (await perCall(targets.slice(0, 2), rounds, 20)) as [number[], number[]];
      const [bridgeAgain, bareCalls] = (await perCall([targets[0]!, { host: "127.0.0.1", port: barePort }], rounds, 1)) as [number[], number[]];
      for (const [name, values] of [["bridge", viaBridgeCalls], ["ssh -L (one persistent OpenSSH connection)", viaTunnelCalls], ["the engine's own socket", directCalls]] as const) {
        lines.push(report(`per call, ${name}: p50 / p99`, `${fmt(quantile(values, 0.5))} / ${fmt(quantile(values, 0.99))}`));
      }
      lines.push(report("per call p50, bridge / ssh -L (target <= 1.1x)", ratio(quantile(viaBridgeCalls, 0.5), quantile(viaTunnelCalls, 0.5))));
      lines.push(report("per call p99, bridge / ssh -L", ratio(quantile(viaBridgeCalls, 0.99), quantile(viaTunnelCalls, 0.99))));
      lines.push(report("per call p50 with 20 concurrent clients: bridge / ssh -L", `${fmt(quantile(bridgeBusy, 0.5))} / ${fmt(quantile(tunnelBusy, 0.5))} = ${ratio(quantile(bridgeBusy, 0.5), quantile(tunnelBusy, 0.5))}`));
      lines.push(report("per call p50, bridge / ssh -N -L (no session, Nagle on at sshd)", `${fmt(quantile(bridgeAgain, 0.5))} / ${fmt(quantile(bareCalls, 0.5))} = ${ratio(quantile(bridgeAgain, 0.5), quantile(bareCalls, 0.5))}`));
    } finally {
      pingTunnel.kill("SIGTERM");
      bareTunnel.kill("SIGTERM");
    }

    // 4. A download through a forwarded port beside ssh -L over the same veth, to the same port.
    const port = base + 90;
    await remote.engine.docker(["run", "-d", "--name", "bench-big", "--label", `dockernet.test=${remote.engine.runId}`, "-p", `${port}:80`, BENCH_IMAGE,
      "sh", "-c", `mkdir -p /www && dd if=/dev/zero of=/www/big bs=1048576 count=${downloadMb} 2>/dev/null && echo ready > /www/index.html && exec httpd -f -p 80 -h /www`]);
    await bridge.forward("bench-big", port, 60_000);
    await httpBody(port, 120_000);
    const tunnelPort = base + 91;
    const tunnel = sshTunnel(sshArgs, `127.0.0.1:${tunnelPort}:127.0.0.1:${port}`, true);
    try {
      await waitFor("the ssh -L tunnel", () => answers(tunnelPort), 10_000, 50);
      const forwarded: number[] = [];
      const tunnelled: number[] = [];
      for (let i = 0; i < 3; i++) {
        forwarded.push(await download(port));
        tunnelled.push(await download(tunnelPort));
      }
      const best = (values: number[]) => Math.max(...values);
      lines.push(report(`${downloadMb} MiB through the bridge's forward (best of 3)`, mb(best(forwarded))));
      lines.push(report(`${downloadMb} MiB through ssh -L (best of 3)`, mb(best(tunnelled))));
      lines.push(report("forward / ssh -L throughput (target >= 1.0x)", ratio(best(forwarded), best(tunnelled))));
    } finally {
      tunnel.kill("SIGTERM");
    }
  } finally {
    await bridge.stop();
  }
} finally {
  await remote.stop();
  await rm(work, { recursive: true, force: true });
}
console.log(`\nbridge bench summary:\n${lines.join("\n")}`);
