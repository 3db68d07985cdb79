/**
 * `dockernet bridge` end to end: a second host in its own network namespace (its own throwaway
 * engine, a real OpenSSH sshd on its veth address), the bridge started against it as a user
 * starts it, and the real docker CLI talking to the bridge's socket (DOCKER_HOST=unix://...).
 * The cloud provider is the one part that is not real: Hetzner's API cannot be reached from
 * here, so the idle destroy / re-create test runs against a local server that implements the
 * endpoints the provider uses as Hetzner's public API documentation describes them
 * (test/support/hetzner-fake.ts); its "created" servers are the test SSH host.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, gone, sleep, which } from "../support/_exec.ts";
import { BridgeRun, bridgeDir, bridgeEnv, deadSocketAt, dialStdioSessions, dockerEnv, httpBody, httpdCommand, httpGet, startArgs } from "../support/bridge-harness.ts";
import { serveCreatedServers } from "../support/bridge-hetzner.ts";
import { Daemon, dockernet, waitFor } from "../support/dockernet.ts";
import { HetznerFake } from "../support/hetzner-fake.ts";
import { buildTestImage, TEST_IMAGE } from "../support/image.ts";
import { RemoteHost } from "../support/remote-host.ts";
import { createLogger } from "../../src/core/logger.ts";
import { ActivityClock } from "../../src/modes/bridge/local/activity.ts";
import { PortForwards } from "../../src/modes/bridge/local/ports.ts";
import { SshLink } from "../../src/ssh/connection.ts";

setDefaultTimeout(120_000);

const image = TEST_IMAGE;
let remote: RemoteHost;
/** Bridges a test started, stopped after it. */
const started: BridgeRun[] = [];
const dirs: string[] = [];
const listeners: Server[] = [];
/** Local ports of this run: base..base+99 (a busy one moves to +1000). */
const base = 21_000 + Math.floor(Math.random() * 70) * 100;

beforeAll(async () => {
  remote = await RemoteHost.start({ name: "dntest-remote2", subnet: 116 });
  // The containers run on the REMOTE engine, so the busybox test image must be there.
  const found = await remote.engine.docker(["image", "inspect", image], { allowFail: true });
  if (found.code !== 0) await buildTestImage((args, options) => remote.engine.docker(args, options), image);
});

afterAll(async () => {
  await remote?.stop();
});

afterEach(async () => {
  for (const bridge of started.splice(0)) await bridge.stop();
  for (const server of listeners.splice(0)) await new Promise((resolve) => server.close(resolve));
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  if (!(await remote.sshdPid())) await remote.startSshd();
  await remote.engine.cleanup();
});

async function startBridge(options: Parameters<typeof BridgeRun.start>[1] = {}, host: RemoteHost = remote): Promise<BridgeRun> {
  const bridge = await BridgeRun.start(host, options);
  started.push(bridge);
  return bridge;
}

async function freshDir(): Promise<string> {
  const dir = await bridgeDir();
  dirs.push(dir);
  return dir;
}

/** Takes a local port on 127.0.0.1, as another program would. */
async function occupy(port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, resolve);
  });
  listeners.push(server);
}

/** `dockernet bridge start` run to its end (for starts that must be refused). */
function startOnce(dir: string, args: string[] = []) {
  return dockernet(remote.engine, startArgs(remote, dir, { args }), { env: bridgeEnv(dir) });
}

describe("docker through one bridge", () => {
  let bridge: BridgeRun;

  beforeAll(async () => {
    bridge = await BridgeRun.start(remote);
  });

  afterAll(async () => {
    await bridge?.stop();
  });

  test("docker ps lists the remote engine's containers", async () => {
    await remote.engine.run("made-on-the-remote");
    const ps = await bridge.docker(["ps", "--format", "{{.Names}}"]);
    expect(ps.stdout.split("\n")).toContain("made-on-the-remote");
  });

  test("run -d -p: the published port answers on localhost through the forward; the forward closes when the container stops", async () => {
    const port = base + 1;
    await bridge.docker(bridge.runArgs("-d", "--name", "web", "-p", `${port}:80`, image, ...httpdCommand("hello-through-the-bridge")));
    expect(await bridge.forward("web", port)).toMatchObject({ container: "web", requested: port, actual: port, remote: `127.0.0.1:${port}` });
    expect(await httpBody(port)).toBe("hello-through-the-bridge\n");
    expect(bridge.logged("port forwarded").some((line) => line.container === "web" && line.actual === port)).toBe(true);
    expect((await bridge.status()).forwards.find((forward) => forward.container === "web")?.bytes).toBeGreaterThan(0);

    await bridge.docker(["stop", "-t", "1", "web"]);
    await waitFor("the forward to close", async () => !(await bridge.status()).forwards.some((forward) => forward.container === "web"), 15_000, 100);
    await expect(httpGet(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  test("run --rm -i: stdin is echoed back whole, and its end reaches the container (half-close)", async () => {
    const input = `${Array.from({ length: 3000 }, (_, i) => `line ${i} ${"x".repeat(60)}`).join("\n")}\n`;
    // cat exits only when it reads the end of its stdin; the output after it must still arrive.
    const echoed = await bridge.docker(bridge.runArgs("--rm", "-i", image, "sh", "-c", "cat; echo after-eof"), { input, timeoutMs: 30_000 });
    expect(echoed.code).toBe(0);
    expect(echoed.stdout.length).toBe(input.length + "after-eof\n".length);
    expect(echoed.stdout).toBe(`${input}after-eof\n`);
  });

  test("run --rm prints the container's output and passes its exit code on", async () => {
    const hi = await bridge.docker(bridge.runArgs("--rm", image, "echo", "hi"));
    expect(hi.stdout).toBe("hi\n");
    const failed = await bridge.docker(bridge.runArgs("--rm", image, "sh", "-c", "echo to-stderr >&2; exit 3"), { allowFail: true });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain("to-stderr");
  });

  test("logs -f streams: a line arrives while the container is still running, and the stream ends when it exits", async () => {
    await bridge.docker(bridge.runArgs("-d", "--name", "ticker", image, "sh", "-c", "echo first; sleep 3; echo second"));
    const docker = (await which("docker")) ?? "docker";
    const child = spawn(docker, ["logs", "-f", "ticker"], { env: dockerEnv(bridge.socket, bridge.dir), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? -1)));
    await waitFor("the first line", () => out.includes("first"), 15_000);
    expect(out).toBe("first\n"); // streamed: "second" is 3 s away
    expect(await exited).toBe(0);
    expect(out).toBe("first\nsecond\n");
  });

  test("exec: a command's output, and one reading stdin to its end", async () => {
    await bridge.docker(bridge.runArgs("-d", "--name", "exec-target", image, ...httpdCommand("exec-me")));
    expect((await bridge.docker(["exec", "exec-target", "cat", "/www/index.html"])).stdout).toBe("exec-me\n");
    const piped = await bridge.docker(["exec", "-i", "exec-target", "sh", "-c", "cat; echo done"], { input: "from-stdin\n" });
    expect(piped.stdout).toBe("from-stdin\ndone\n");
  });

  test("build with a context dir (legacy builder: no buildx here), then run the image", async () => {
    const context = await mkdtemp(join(tmpdir(), "dockernet-bridge-build-"));
    dirs.push(context);
    await writeFile(join(context, "Dockerfile"), `FROM ${image}\nCOPY hello.txt big.bin /\nCMD ["cat", "/hello.txt"]\n`);
    await writeFile(join(context, "hello.txt"), "built-through-the-bridge\n");
    await writeFile(join(context, "big.bin"), Buffer.alloc(2 * 1024 * 1024, 7)); // a context of some size
    const tag = `dntest-bridge-built:${remote.engine.runId}`;
    try {
      const built = await bridge.docker(["build", "-t", tag, context], { timeoutMs: 60_000 });
      expect(built.stdout).toContain("Successfully tagged");
      expect((await bridge.docker(bridge.runArgs("--rm", tag))).stdout).toBe("built-through-the-bridge\n");
      expect((await bridge.docker(bridge.runArgs("--rm", tag, "ls", "-l", "/big.bin"))).stdout).toContain(String(2 * 1024 * 1024));
    } finally {
      await remote.engine.docker(["rmi", "-f", tag], { allowFail: true });
    }
  });

  test("run -it and exec -it in a terminal (script gives the docker CLI a pty): typed input, output", async () => {
    const docker = (await which("docker")) ?? "docker";
    const inTerminal = (command: string, input?: string) => exec("script", ["-qec", command, "/dev/null"], { input, env: dockerEnv(bridge.socket, bridge.dir), timeoutMs: 30_000 });
    const label = `--label dockernet.test=${remote.engine.runId}`;
    const shell = await inTerminal(`${docker} run -it --rm ${label} ${image} sh`, "echo typed-$((1+2))\nexit\n");
    expect(shell.stdout).toContain("typed-3");
    const tty = await inTerminal(`${docker} run -it --rm ${label} ${image} sh -c tty`);
    expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
    await bridge.docker(bridge.runArgs("-d", "--name", "exec-tty", image));
    // One line, written at once: a NUL byte can reach the container's terminal from the client side
    // (script's stdin is empty), and the terminal echoes it as `^@` wherever the output has got to;
    // once it landed between the two lines of `tty; echo ...`.
    expect((await inTerminal(`${docker} exec -it exec-tty sh -c 'echo "$(tty) exec-in-a-tty"'`)).stdout).toMatch(/\/dev\/pts\/\d+ exec-in-a-tty/);
  });

  test("ten containers started at once: one forward each, on its requested port", async () => {
    const ports = Array.from({ length: 10 }, (_, i) => base + 20 + i);
    await Promise.all(ports.map((port, i) => bridge.docker(bridge.runArgs("-d", "--name", `burst-${i}`, "-p", `${port}:80`, image, ...httpdCommand(`burst-${i}`)))));
    await waitFor("ten forwards", async () => (await bridge.status()).forwards.filter((forward) => forward.container.startsWith("burst-")).length >= 10, 15_000, 100);
    await sleep(500); // scans still running would show up now as a second forward of a port
    const burst = (await bridge.status()).forwards.filter((forward) => forward.container.startsWith("burst-"));
    expect(burst.map((forward) => forward.actual).sort()).toEqual(ports);
    for (const [i, port] of ports.entries()) expect(await httpBody(port)).toBe(`burst-${i}\n`);
  });

  test("a UDP port gets a warning (SSH carries only TCP), not a forward", async () => {
    const port = base + 10;
    await bridge.docker(bridge.runArgs("-d", "--name", "udp-only", "-p", `${port}:53/udp`, image));
    const warning = await waitFor("the UDP warning", () => bridge.daemon.find((line) => line.msg === "UDP port not forwarded: SSH carries only TCP" && line.container === "udp-only")[0]);
    expect(warning).toMatchObject({ level: "warn", port });
    const status = await bridge.status();
    expect(status.forwards.some((forward) => forward.container === "udp-only")).toBe(false);
    // Where the user looks: status lists it with its container, not only the log.
    expect(status.warnings).toContainEqual({ container: "udp-only", message: `UDP port ${port} not forwarded: SSH carries only TCP`, since: expect.any(String) });
  });

  test("a bind mount of a local path is relayed with a warning in the log and in status, naming the container", async () => {
    const run = await bridge.docker(bridge.runArgs("--rm", "--name", "bind-local", "-v", "/tmp:/x", image, "true"));
    expect(run.code).toBe(0);
    const warning = await waitFor("the bind-mount warning", () => bridge.daemon.find((line) => line.level === "warn" && line.msg.startsWith("bind mount of a local path"))[0]);
    expect(warning.paths).toEqual(["/tmp"]);
    expect(warning.container).toBe("bind-local");
    expect((await bridge.status()).warnings).toContainEqual({ container: "bind-local", message: "bind mount of /tmp: mounted from the remote host, not from this machine", since: expect.any(String) });
  });

  test("a busy local port: the forward binds requested+1000, shown in status and the log", async () => {
    const port = base + 2;
    await occupy(port);
    await bridge.docker(bridge.runArgs("-d", "--name", "conflicted", "-p", `${port}:80`, image, ...httpdCommand("moved")));
    const forward = await bridge.forward("conflicted", port);
    expect(forward.actual).toBe(port + 1000);
    expect(await httpBody(port + 1000)).toBe("moved\n");
    expect(bridge.daemon.find((line) => line.level === "warn" && line.container === "conflicted")[0]).toMatchObject({ requested: port, actual: port + 1000 });
    // `docker ps` still shows the requested port: status says where it is.
    expect((await bridge.status()).warnings.find((warning) => warning.container === "conflicted")?.message).toStartWith(`port ${port} is on local port ${port + 1000}`);
  });

  test("a remote-only bind is honoured: 127.0.0.1:PORT is forwarded to the remote's 127.0.0.1, a specific address to that address", async () => {
    const loopback = base + 3;
    const veth = base + 4;
    await bridge.docker(bridge.runArgs("-d", "--name", "loopback-only", "-p", `127.0.0.1:${loopback}:80`, image, ...httpdCommand("remote-loopback")));
    await bridge.docker(bridge.runArgs("-d", "--name", "veth-only", "-p", `${remote.address}:${veth}:80`, image, ...httpdCommand("remote-veth")));
    expect((await bridge.forward("loopback-only", loopback)).remote).toBe(`127.0.0.1:${loopback}`);
    expect((await bridge.forward("veth-only", veth)).remote).toBe(`${remote.address}:${veth}`);
    expect(await httpBody(loopback)).toBe("remote-loopback\n");
    expect(await httpBody(veth)).toBe("remote-veth\n");
    // On the remote host, that port answers on its veth address only: a forward to its loopback would fail.
    const busybox = (await which("busybox")) ?? "busybox";
    const onLoopback = await exec("nsenter", [`--net=/run/netns/${remote.engine.name}`, busybox, "wget", "-q", "-O", "-", "-T", "2", `http://127.0.0.1:${veth}/`], { allowFail: true });
    expect(onLoopback.code).not.toBe(0);
  });

  test("50 concurrent docker ps through one bridge, over its one SSH connection", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => bridge.docker(["ps", "-q"], { allowFail: true })));
    expect(results.filter((result) => result.code !== 0).map((result) => result.stderr)).toEqual([]);
    const connections = await exec("ss", ["-H", "-t", "-n", "state", "established", "dst", remote.address, "dport", "=", ":22"]);
    expect(connections.stdout.trim().split("\n").filter(Boolean)).toHaveLength(1);
  });

  test("bridge status: text and JSON from the running bridge", async () => {
    const port = base + 5;
    await bridge.docker(bridge.runArgs("-d", "--name", "status-web", "-p", `${port}:80`, image, ...httpdCommand("status")));
    await bridge.forward("status-web", port);
    const status = await bridge.status();
    expect(status).toMatchObject({
      pid: bridge.daemon.pid,
      socket: bridge.socket,
      provider: "ssh",
      server: { address: `${remote.address}:22`, created_by_bridge: false },
      ssh: { connected: true, last_error: null },
      docker: { reachable: true },
      activity: { idle_time_left_s: null },
    });
    expect(status.forwards).toContainEqual(expect.objectContaining({ container: "status-web", requested: port, actual: port, remote: `127.0.0.1:${port}` }));
    const text = await bridge.cli(["bridge", "status"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`bridge ${bridge.socket} (PID ${bridge.daemon.pid}), provider ssh`);
    expect(text.stdout).toMatch(/ssh: +connected since /);
    expect(text.stdout).toMatch(/docker: +reachable/);
    expect(text.stdout).toMatch(/CONTAINER +REQUESTED +LOCAL +REMOTE +BYTES +CONNECTIONS/);
    expect(text.stdout).toMatch(new RegExp(`status-web +${port} +${port} +127\\.0\\.0\\.1:${port}`));
  });

  test("the Docker socket and the control socket are 0600", async () => {
    for (const path of [bridge.socket, `${bridge.socket}.ctl`]) {
      const info = await stat(path);
      expect(info.isSocket()).toBe(true);
      expect(info.mode & 0o777).toBe(0o600);
    }
  });

  test("the SSH connection cut: every command works again after the reconnect, forwards restored", async () => {
    const port = base + 6;
    await bridge.docker(bridge.runArgs("-d", "--name", "survivor", "-p", `${port}:80`, image, ...httpdCommand("still-here")));
    await bridge.forward("survivor", port);
    expect(await httpBody(port)).toBe("still-here\n");
    const before = (await bridge.status()).ssh.reconnects;

    expect(await remote.killSessions()).toBeGreaterThan(0);
    // The very next command waits for the new connection.
    expect((await bridge.docker(["ps", "--format", "{{.Names}}"])).stdout).toContain("survivor");
    expect((await bridge.docker(bridge.runArgs("--rm", "-i", image, "cat"), { input: "after-the-cut\n" })).stdout).toBe("after-the-cut\n");
    expect((await bridge.docker(bridge.runArgs("--rm", image, "echo", "hi"))).stdout).toBe("hi\n");
    expect((await bridge.docker(["exec", "survivor", "cat", "/www/index.html"])).stdout).toBe("still-here\n");
    expect((await bridge.docker(["logs", "survivor"])).code).toBe(0);
    const status = await waitFor("the link to be up again", async () => {
      const now = await bridge.status();
      return now.ssh.connected && now.ssh.reconnects > before ? now : undefined;
    });
    expect(status.ssh.last_error).not.toBeNull();
    // The forward made before the cut answers over the new connection...
    expect(await httpBody(port)).toBe("still-here\n");
    // ...and the events stream is back: a container started now gets its forward.
    const later = base + 7;
    await bridge.docker(bridge.runArgs("-d", "--name", "after-cut", "-p", `${later}:80`, image, ...httpdCommand("new-after-cut")));
    await bridge.forward("after-cut", later);
    expect(await httpBody(later)).toBe("new-after-cut\n");
    expect(bridge.logged("SSH link lost, reconnecting").length).toBeGreaterThan(0);
    expect(bridge.logged("SSH link up again").length).toBeGreaterThan(0);
  });
});

describe("starting and stopping", () => {
  test("bridge stop: the bridge exits 0 and removes its sockets and lock", async () => {
    const bridge = await startBridge();
    const stopped = await bridge.cli(["bridge", "stop"]);
    expect(stopped.code).toBe(0);
    expect(await bridge.daemon.exited(10_000)).toBe(0);
    for (const path of [bridge.socket, `${bridge.socket}.ctl`, `${bridge.socket}.pid`]) expect(existsSync(path)).toBe(false);
    const again = await bridge.cli(["bridge", "status"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`no bridge is running on ${bridge.socket}`);
  });

  test("a second start on the same socket is refused, naming the running PID; the first one keeps serving", async () => {
    const bridge = await startBridge();
    const second = await dockernet(remote.engine, startArgs(remote, bridge.dir), { env: bridge.env });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`a bridge is already running on ${bridge.socket} (PID ${bridge.daemon.pid})`);
    expect((await bridge.docker(["ps"])).code).toBe(0);
    expect((await readFile(`${bridge.socket}.pid`, "utf8")).trim()).toBe(String(bridge.daemon.pid));
  });

  test("two starts at the same moment on one socket: one serves, the other is refused naming its PID", async () => {
    const dir = await freshDir();
    const starts = await Promise.allSettled([startBridge({ dir }), startBridge({ dir })]);
    const running = starts.flatMap((start) => (start.status === "fulfilled" ? [start.value] : []));
    const refused = starts.flatMap((start) => (start.status === "rejected" ? [String(start.reason)] : []));
    expect(running).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain(`a bridge is already running on ${join(dir, "bridge.sock")} (PID ${running[0]!.daemon.pid})`);
    expect((await running[0]!.docker(["ps"])).code).toBe(0);
  });

  test("a stale lock is cleaned: the PID file of a dead process and the sockets it left", async () => {
    const dir = await freshDir();
    const socket = join(dir, "bridge.sock");
    const dead = spawn("true");
    await new Promise((resolve) => dead.once("exit", resolve));
    expect(await gone(dead.pid ?? 0)).toBe(true);
    await writeFile(`${socket}.pid`, `${dead.pid}\n`);
    // A process that dies while listening leaves its socket files behind.
    const leave = `const net = require("node:net"); let n = 0; for (const path of ${JSON.stringify([socket, `${socket}.ctl`])}) net.createServer().listen(path, () => { if (++n === 2) process.kill(process.pid, "SIGKILL"); });`;
    await exec(process.execPath, ["-e", leave], { allowFail: true });
    expect((await stat(socket)).isSocket()).toBe(true);

    const bridge = await startBridge({ dir });
    expect(bridge.logged("removing a stale bridge lock")[0]).toMatchObject({ pid: dead.pid });
    expect((await bridge.docker(["ps"])).code).toBe(0);
    expect((await readFile(`${socket}.pid`, "utf8")).trim()).toBe(String(bridge.daemon.pid));
  });

  test("a socket directory others can write (0777, no sticky bit) is refused before anything connects", async () => {
    const dir = await freshDir();
    await chmod(dir, 0o777);
    const result = await startOnce(dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the directory ${dir} of the bridge socket ${join(dir, "bridge.sock")} is writable by others (mode 0777)`);
    expect(existsSync(join(dir, "bridge.sock"))).toBe(false);
  });

  test("a wrong --remote-socket is one clear error at start, not a failure per Docker command", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "known_hosts"), remote.knownHostsLine);
    const args = startArgs(remote, dir).map((arg) => (arg === remote.engine.socketPath ? "/run/nothing-here.sock" : arg));
    const refused = await dockernet(remote.engine, args, { env: bridgeEnv(dir) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`no Unix socket at /run/nothing-here.sock on root@${remote.address}:22`);
    expect(refused.stderr).toContain("--remote-socket");
    expect(existsSync(join(dir, "bridge.sock.pid"))).toBe(false);
  });

  test("two bridges on two sockets run side by side", async () => {
    const one = await startBridge();
    const two = await startBridge();
    expect((await one.docker(["ps"])).code).toBe(0);
    expect((await two.docker(["ps"])).code).toBe(0);
  });
});

describe("the link and the ports, by config", () => {
  test("DOCKERNET_BRIDGE_CONNECT_TIMEOUT: while the link is down a Docker command waits that long, then is closed with the reason logged", async () => {
    const bridge = await startBridge({ env: { DOCKERNET_BRIDGE_CONNECT_TIMEOUT: "2s" } });
    await remote.stopSshd();
    await remote.killSessions();
    await waitFor("the link to be down", async () => !(await bridge.status()).ssh.connected);
    const before = Date.now();
    const failed = await bridge.docker(["ps"], { allowFail: true });
    const waited = Date.now() - before;
    expect(failed.code).not.toBe(0);
    expect(waited).toBeGreaterThanOrEqual(1900);
    expect(waited).toBeLessThan(10_000);
    const closed = await waitFor("the reason in the log", () => bridge.daemon.find((line) => line.msg === "Docker connection closed: the remote engine is not reachable")[0]);
    expect(String(closed.reason)).toContain("the SSH link is not up after 2 s");
    await remote.startSshd();
    expect((await waitFor("docker ps to work again", async () => ((await bridge.docker(["ps"], { allowFail: true })).code === 0 ? true : undefined), 40_000, 200))).toBe(true);
  });

  test("containers started while the link is down get their forwards once it is back, one each on its requested port", async () => {
    const bridge = await startBridge();
    await remote.stopSshd();
    await remote.killSessions();
    await waitFor("the link to be down", async () => !(await bridge.status()).ssh.connected);
    const ports = Array.from({ length: 5 }, (_, i) => base + 40 + i);
    for (const [i, port] of ports.entries()) await remote.engine.run(`while-down-${i}`, { publish: [`${port}:80`], cmd: httpdCommand(`while-down-${i}`) });
    await remote.startSshd();
    // The reconnect's scan, the events stream's resync and the replayed start events all come at once.
    await waitFor("five forwards", async () => (await bridge.status()).forwards.filter((forward) => forward.container.startsWith("while-down-")).length >= 5, 40_000, 100);
    await sleep(1000);
    const forwards = (await bridge.status()).forwards.filter((forward) => forward.container.startsWith("while-down-"));
    expect(forwards.map((forward) => forward.actual).sort()).toEqual(ports);
    for (const [i, port] of ports.entries()) expect(await httpBody(port)).toBe(`while-down-${i}\n`);
  });

  test("DOCKERNET_BRIDGE_PORT_CONFLICT=fail: a busy port is reported and skipped", async () => {
    const bridge = await startBridge({ env: { DOCKERNET_BRIDGE_PORT_CONFLICT: "fail" } });
    const port = base + 11;
    await occupy(port);
    await bridge.docker(bridge.runArgs("-d", "--name", "skipped", "-p", `${port}:80`, image, ...httpdCommand("skipped")));
    const reported = await waitFor("the report", () => bridge.daemon.find((line) => line.msg === "local port busy, not forwarded (port_conflict = fail)")[0]);
    expect(reported).toMatchObject({ level: "error", container: "skipped", requested: port });
    expect((await bridge.status()).forwards.some((forward) => forward.container === "skipped")).toBe(false);
  });
});

/** Follows the logs of a running container through the bridge: one long Docker connection, until stopped. */
async function follow(bridge: BridgeRun, container: string): Promise<{ stop(): void }> {
  const docker = (await which("docker")) ?? "docker";
  const child = spawn(docker, ["logs", "-f", container], { env: dockerEnv(bridge.socket, bridge.dir), stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  await waitFor("the first log line", () => out.includes("tick"), 15_000);
  return { stop: () => child.kill("SIGKILL") };
}

describe("stream-local or dial-stdio, decided per link", () => {
  test("one stream-local channel refused at runtime (a dockerd that restarts) fails that command only: the bridge stays on stream-local", async () => {
    const bridge = await startBridge();
    expect((await bridge.docker(["ps"])).code).toBe(0);
    const path = remote.engine.socketPath;
    await rename(path, `${path}.aside`); // dockerd keeps listening on it under that name
    try {
      await deadSocketAt(path);
      // The channel the bridge opened ahead of the next client reached dockerd before the "restart"
      // (here dockerd lives on under the other name): the first command is served by it.
      expect((await bridge.docker(["ps"], { allowFail: true, timeoutMs: 30_000 })).code).toBe(0);
      const failed = await bridge.docker(["ps"], { allowFail: true, timeoutMs: 30_000 });
      expect(failed.code).not.toBe(0);
    } finally {
      await rm(path, { force: true });
      await rename(`${path}.aside`, path);
    }
    expect((await bridge.docker(["ps"])).code).toBe(0);
    await bridge.docker(bridge.runArgs("-d", "--name", "ticking", image, "sh", "-c", "while true; do echo tick; sleep 1; done"));
    const logs = await follow(bridge, "ticking");
    try {
      expect(await dialStdioSessions(remote)).toBe(0);
    } finally {
      logs.stop();
    }
    expect(bridge.daemon.find((line) => String(line.msg).includes("dial-stdio"))).toEqual([]);
  });

  test("after a reconnect to a server that refuses stream-local: dial-stdio; after one to a server that allows it again: stream-local", async () => {
    const bridge = await startBridge();
    const restartSshd = async (allowStreamLocal: boolean) => {
      if (await remote.sshdPid()) await remote.stopSshd();
      await remote.killSessions();
      await remote.startSshd({ allowStreamLocal });
    };
    try {
      await restartSshd(false);
      expect((await bridge.docker(["ps"])).code).toBe(0);
      await bridge.docker(bridge.runArgs("-d", "--name", "ticking", image, "sh", "-c", "while true; do echo tick; sleep 1; done"));
      const overDialStdio = await follow(bridge, "ticking");
      try {
        expect(await dialStdioSessions(remote)).toBeGreaterThan(0);
      } finally {
        overDialStdio.stop();
      }
      expect(bridge.daemon.find((line) => line.level === "warn" && String(line.msg).includes("dial-stdio"))).toHaveLength(1);

      await restartSshd(true);
      expect((await bridge.docker(["ps"])).code).toBe(0);
      await waitFor("the dial-stdio sessions to end", async () => (await dialStdioSessions(remote)) === 0, 10_000, 100);
      const overStreamLocal = await follow(bridge, "ticking");
      try {
        expect(await dialStdioSessions(remote)).toBe(0);
      } finally {
        overStreamLocal.stop();
      }
      expect(bridge.logged("the server allows stream-local forwarding again")).toHaveLength(1);
    } finally {
      if (!remote.allowStreamLocal) await restartSshd(true);
    }
  });
});

describe("PortForwards in process", () => {
  test("two syncs at once open each port once (no second forward on +1000)", async () => {
    const port = base + 50;
    const forwards = new PortForwards({ log: createLogger("bridge-test"), conflict: "increment", activity: new ActivityClock({ connectionTimeoutMs: 1000 }), dial: () => Promise.reject(new Error("not dialled here")) });
    const published = [{ container: { id: "c1", name: "one" }, proto: "tcp" as const, hostIp: "0.0.0.0", hostPort: port }];
    try {
      await Promise.all([forwards.sync(published), forwards.sync(published), forwards.sync(published)]);
      expect(forwards.list().map((forward) => forward.actual)).toEqual([port]);
      await expect(httpGet(port + 1000)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await forwards.closeAll({ final: true });
    }
  });
});

describe("host keys", () => {
  test("an unknown host key is refused with its fingerprint; nothing is left behind", async () => {
    const dir = await freshDir();
    const refused = await startOnce(dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the SSH host key of ${remote.address}:22 is not known`);
    expect(refused.stderr).toContain(await remote.hostKeyFingerprint());
    expect(refused.stderr).toContain("--accept-new-host-key");
    for (const file of ["bridge.sock", "bridge.sock.pid", "bridge.sock.ctl", "known_hosts"]) expect(existsSync(join(dir, file))).toBe(false);
  });

  test("--accept-new-host-key records an unknown key; a changed key is refused even with it", async () => {
    const dir = await freshDir();
    const bridge = await startBridge({ dir, knownHost: false, args: ["--accept-new-host-key"] });
    expect(bridge.logged("recorded a new SSH host key")[0]).toMatchObject({ fingerprint: await remote.hostKeyFingerprint() });
    expect(await readFile(join(dir, "known_hosts"), "utf8")).toBe(remote.knownHostsLine);
    expect((await bridge.docker(["ps"])).code).toBe(0);
    await bridge.stop();

    await remote.rotateHostKey();
    const refused = await startOnce(dir, ["--accept-new-host-key"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the SSH host key of ${remote.address}:22 has CHANGED`);
    expect(refused.stderr).toContain(await remote.hostKeyFingerprint());
    expect(await readFile(join(dir, "known_hosts"), "utf8")).not.toContain(remote.knownHostsLine.split(" ")[2]);
  });
});

describe("a server that refuses stream-local forwarding", () => {
  test("the bridge falls back to docker system dial-stdio: ps, run -i with half-close, forwards", async () => {
    await using other = await RemoteHost.start({ name: "dntest-remote3", subnet: 117, allowStreamLocal: false });
    await using bridge = await BridgeRun.start(other);
    expect(bridge.daemon.find((line) => line.level === "warn" && line.msg.includes("dial-stdio")).length).toBe(1);
    expect((await bridge.docker(["ps"])).code).toBe(0);
    expect((await bridge.docker(bridge.runArgs("--rm", "-i", image, "sh", "-c", "cat; echo after-eof"), { input: "over-dial-stdio\n" })).stdout).toBe("over-dial-stdio\nafter-eof\n");
    const port = base + 8;
    await bridge.docker(bridge.runArgs("-d", "--name", "web", "-p", `${port}:80`, image, ...httpdCommand("dial-stdio-web")));
    await bridge.forward("web", port);
    expect(await httpBody(port)).toBe("dial-stdio-web\n");
    const results = await Promise.all(Array.from({ length: 20 }, () => bridge.docker(["ps", "-q"], { allowFail: true })));
    expect(results.filter((result) => result.code !== 0).map((result) => result.stderr)).toEqual([]);
  });
});

describe("a server created on demand (local Hetzner API)", () => {
  test("destroyed when idle, created again by the next Docker command, which waits (longer than connect_timeout); forwards come back", async () => {
    await using host = await RemoteHost.start({ name: "dntest-remote4", subnet: 118 });
    await using fake = await HetznerFake.start({ serverIp: host.address });
    await host.stopSshd(); // no server yet: its sshd starts when the fake "boots" one
    await using cloud = serveCreatedServers(fake, host);
    await using bridge = await BridgeRun.start(host, {
      knownHost: false, // the bridge knows the key it gave the server in cloud-init
      args: ["--provider", "hetzner"],
      // connect_timeout shorter than a create here, as the default 30 s is shorter than a real one.
      env: {
        HCLOUD_TOKEN: fake.token, DOCKERNET_BRIDGE_HETZNER_ENDPOINT: fake.endpoint, DOCKERNET_BRIDGE_IDLE_TIMEOUT: "6s", DOCKERNET_BRIDGE_GRACE_PERIOD: "3s", DOCKERNET_BRIDGE_CONNECT_TIMEOUT: "1s",
        // Where this test sshd keeps its host key and PID (a real server: /etc/ssh/ssh_host_ed25519_key, /run/sshd.pid).
        DOCKERNET_BRIDGE_HETZNER_HOST_KEY_FILE: join(host.dir, "host_key"), DOCKERNET_BRIDGE_HETZNER_SSHD_PID_FILE: join(host.dir, "sshd.pid"),
      },
    });
    // The bootstrap host key (it was in the user data) replaced after the first verified login, and no longer accepted.
    const knownHosts = bridge.env.DOCKERNET_BRIDGE_KNOWN_HOSTS as string;
    const bootstrap = fake.hostKey().publicKey.split(" ").slice(0, 2).join(" ");
    const currentKey = async () => (await readFile(join(host.dir, "host_key.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
    expect(bridge.logged("the server's host key was replaced after the first verified login; the bootstrap key is forgotten")).toHaveLength(1);
    expect(await currentKey()).not.toBe(bootstrap);
    expect((await readFile(knownHosts, "utf8")).trim().split("\n")).toEqual([`${host.address} ${await currentKey()}`]);
    const onlyBootstrap = join(bridge.dir, "bootstrap_known_hosts");
    await writeFile(onlyBootstrap, `${host.address} ${bootstrap}\n`);
    const refused = await waitFor("sshd to serve the new key", async () => {
      const code = await SshLink.connect({ host: host.address, port: 22, username: "root", privateKey: await readFile(host.identityFile), identityFile: host.identityFile, knownHostsFiles: [], ownKnownHosts: onlyBootstrap, acceptNewHostKey: false }, createLogger("test")).then(
        (link) => (link.close(), "connected"),
        (error: { code?: string }) => error.code,
      );
      return code === "SSH_UNREACHABLE" ? undefined : code;
    }, 10_000, 100);
    expect(refused).toBe("SSH_HOST_KEY_CHANGED");
    // The bridge's own next connection is verified with the new key.
    await host.killSessions();
    expect((await bridge.docker(["ps", "--format", "{{.Names}}"])).code).toBe(0);
    expect(cloud.booted).toBe(1);
    expect(fake.callNames()).toContain("POST /servers");
    const status = await bridge.status();
    expect(status).toMatchObject({ provider: "hetzner", server: { name: "dockernet-bridge", address: `${host.address}:22`, created_by_bridge: true, hourly_price: "€0.0060/h gross" }, ssh: { connected: true } });
    // The create took seconds before the bridge served: that was not idle time.
    const [creating, started] = [bridge.logged("creating server")[0], bridge.logged("bridge started")[0]];
    expect(Date.parse(String(started?.time)) - Date.parse(String(creating?.time))).toBeGreaterThan(1500);
    expect(status.activity.idle_time_left_s).toBeLessThanOrEqual(6);
    expect(status.activity.idle_time_left_s).toBeGreaterThanOrEqual(5);

    const port = base + 9;
    // Labelled not to count as use: it outlives the server (on its volume) without keeping it.
    await bridge.docker(bridge.runArgs("-d", "--name", "kept", "--label", "dockernet.bridge.idle=ignore", "-p", `${port}:80`, image, ...httpdCommand("kept-on-the-volume")));
    await bridge.forward("kept", port);
    expect(await httpBody(port)).toBe("kept-on-the-volume\n");

    // A detached container keeps the server past idle + grace: nobody asked for it to go.
    await bridge.docker(bridge.runArgs("-d", "--name", "worker", image, "sleep", "600"));
    const working = Date.now();
    await sleep(9500);
    const busy = await bridge.status();
    expect(busy).toMatchObject({ server: { name: "dockernet-bridge" }, idle: { counts_running: true, kept_by: ["worker"] } });
    expect(busy.activity.idle_time_left_s).toBeGreaterThanOrEqual(5);
    expect((await bridge.cli(["bridge", "status"])).stdout).toContain("kept by 1 running container: worker");
    expect(fake.callNames().filter((call) => call.startsWith("DELETE") || call.includes("shutdown"))).toEqual([]);
    expect(Date.now() - working).toBeGreaterThan(9000);
    // Stopping it lets the idle destroy happen.
    await bridge.docker(["rm", "-f", "worker"]);

    // No activity from here on (status comes from the control socket, which is not activity).
    await waitFor("the idle server to be destroyed", () => bridge.logged("idle server destroyed; the next Docker connection creates one again")[0], 30_000, 100);
    // A shutdown first, then the delete, both by the id it created.
    const id = String(bridge.logged("server created")[0]?.id);
    expect(fake.callNames().filter((call) => /^(POST|DELETE) \/servers\/\d+/.test(call))).toEqual([`POST /servers/${id}/actions/shutdown`, `DELETE /servers/${id}`]);
    expect(bridge.daemon.find((line) => line.level === "warn" && line.msg === "the server is idle and will be destroyed")).toHaveLength(1);
    expect(fake.callNames().filter((call) => /^DELETE \/servers\/\d+$/.test(call))).toHaveLength(1);
    expect(fake.servers.size).toBe(0);
    // The known_hosts line it wrote for that address is gone: the next server there is verified afresh.
    expect(await readFile(knownHosts, "utf8")).not.toContain(host.address);
    expect(bridge.logged("host key of the destroyed server forgotten")).toEqual([expect.objectContaining({ address: `${host.address}:22`, lines: 1 })]);
    const idle = await bridge.status();
    expect(idle).toMatchObject({ server: null, ssh: { connected: false }, forwards: [] });
    await expect(httpGet(port)).rejects.toThrow(/ECONNREFUSED/);
    expect((await bridge.cli(["bridge", "status"])).stdout).toContain("none (created on the next Docker connection)");
    await host.stopSshd(); // the destroyed server is gone

    const before = Date.now();
    const running = bridge.docker(["ps", "--format", "{{.Names}}"], { timeoutMs: 60_000 });
    const during = await waitFor("the create to start", async () => (bridge.logged("creating server").length === 2 ? await bridge.status() : undefined), 10_000, 50);
    expect(during.server).toBeNull(); // the old one is gone, the new one not there yet
    const ps = await running;
    const waited = Date.now() - before;
    expect(ps.stdout.split("\n")).toContain("kept"); // its Docker data lived on (here: the same engine)
    expect(waited).toBeGreaterThan(1000); // it waited while the server was created, longer than connect_timeout
    expect(bridge.logged("a Docker connection waits for the server to be created")).toHaveLength(1);
    expect(cloud.error).toBeUndefined();
    expect(cloud.booted).toBe(2);
    expect(bridge.logged("creating server")).toHaveLength(2);
    expect(fake.servers.size).toBe(1);
    // The new server's bootstrap key was replaced as well: known_hosts lists its new key alone.
    expect((await readFile(knownHosts, "utf8")).trim().split("\n")).toEqual([`${host.address} ${await currentKey()}`]);
    expect(await currentKey()).not.toBe(fake.hostKey().publicKey.split(" ").slice(0, 2).join(" "));
    expect(await bridge.status()).toMatchObject({ server: { name: "dockernet-bridge", address: `${host.address}:22`, created_by_bridge: true }, ssh: { connected: true } });
    await bridge.forward("kept", port);
    expect(await httpBody(port)).toBe("kept-on-the-volume\n");

    // Not bridge.cli: `bridge server` finds no bridge by its socket, and takes no --socket.
    const list = await dockernet(remote.engine, ["bridge", "server", "list", "--provider", "hetzner"], { env: { ...bridge.env, HCLOUD_TOKEN: fake.token, DOCKERNET_BRIDGE_HETZNER_ENDPOINT: fake.endpoint } });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: "dockernet-bridge", address: host.address, status: expect.any(String) })]);
    await host.engine.cleanup();
  });

  /** `bridge start --provider hetzner` whose created server (this test's remote, sshd stopped) never answers SSH. */
  async function silentCreate(env: Record<string, string> = {}) {
    const fake = await HetznerFake.start({ serverIp: remote.address });
    await remote.stopSshd();
    const dir = await freshDir();
    const args = startArgs(remote, dir, { args: ["--provider", "hetzner"] });
    return { fake, dir, args, env: bridgeEnv(dir, { HCLOUD_TOKEN: fake.token, DOCKERNET_BRIDGE_HETZNER_ENDPOINT: fake.endpoint, ...env }) };
  }

  test("a start whose server never answers SSH within DOCKERNET_BRIDGE_CREATE_TIMEOUT deletes it and exits non-zero, naming it and why", async () => {
    const { fake, args, env } = await silentCreate({ DOCKERNET_BRIDGE_CREATE_TIMEOUT: "3s" });
    await using _fake = fake;
    const started = Date.now();
    const result = await dockernet(remote.engine, args, { env });
    expect(result.code).not.toBe(0);
    expect(Date.now() - started).toBeGreaterThan(2000);
    expect(result.stderr).toContain("the start failed; deleting the server it created");
    expect(result.stderr).toContain("dockernet-bridge");
    expect(result.stderr).toContain("did not answer within 3 s");
    expect(fake.callNames()).toContain("POST /servers");
    expect(fake.callNames()).toContainEqual(expect.stringMatching(/^DELETE \/servers\/\d+$/));
    expect(fake.servers.size).toBe(0);
    expect(fake.volumes.size).toBe(1); // the Docker volume stays
  });

  test("SIGTERM while its server is being created: the server is deleted and the bridge exits non-zero", async () => {
    const { fake, args, env } = await silentCreate();
    await using _fake = fake;
    const daemon = await Daemon.start(remote.engine, args, { ready: "waiting for SSH", env });
    const { code } = await daemon.stop("SIGTERM");
    expect(code).not.toBe(0);
    expect(daemon.find((line) => line.msg === "the start failed; deleting the server it created")).toEqual([expect.objectContaining({ name: "dockernet-bridge", reason: expect.stringContaining("SIGTERM") })]);
    expect(fake.callNames()).toContainEqual(expect.stringMatching(/^DELETE \/servers\/\d+$/));
    expect(fake.servers.size).toBe(0);
  });
});
