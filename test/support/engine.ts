/**
 * A throwaway Docker engine for tests: its own dockerd (vfs storage) in its own network namespace,
 * with its own socket and directories under the temp dir. It never touches the host's Docker.
 *
 * ```ts
 * await using engine = await TestEngine.start({ name: "dntest-x", subnet: 95 });
 * const net = await engine.network("n1", { subnet: "10.50.0.0/24" });
 * const c = await engine.run("warp-1", { network: net.name });
 * console.log(await c.routes());
 * ```
 */
import { afterAll, afterEach, beforeAll } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, exec, kill, sleep, which, type ExecResult } from "./_exec.ts";
import { clearEngine } from "./_leftovers.ts";
import { buildTestImage, TEST_IMAGE } from "./image.ts";

/** Label put on every container and network a test engine creates; its value is the run id. */
export const TEST_LABEL = "dockernet.test";

/** Options for {@link TestEngine.start}. */
export interface EngineOptions {
  /** Network namespace name, also used for the work dir; default "dntest". */
  name?: string;
  /** The Y in the `--bip 10.213.Y.1/24` of the engine's default bridge; default 90. */
  subnet?: number;
  /** Pass `--live-restore` to dockerd (containers keep running while it is down). */
  liveRestore?: boolean;
  /** More dockerd arguments, e.g. `-H tcp://127.0.0.1:2375` (reachable inside the engine's namespace). */
  extraArgs?: string[];
  /**
   * The text dockerd reads as the host's /etc/resolv.conf (e.g. `nameserver 127.0.0.1\n`): dockerd
   * then runs in a mount namespace of its own with this file bound over /etc/resolv.conf, so the
   * host's stays untouched. Default: the host's own.
   */
  resolvConf?: string;
}

/** A network created by {@link TestEngine.network}. */
export interface TestNetwork {
  name: string;
  id: string;
  /** `docker network rm`. */
  remove(): Promise<void>;
}

/** Options for {@link TestEngine.network}. */
export interface NetworkOptions {
  subnet?: string;
  gateway?: string;
  driver?: string;
  ipv6?: boolean;
  /** IPv6 subnet; implies `ipv6`. */
  ipv6Subnet?: string;
  internal?: boolean;
  labels?: Record<string, string>;
}

/** Options for {@link TestEngine.run}. */
export interface RunOptions {
  /** Network(s) to attach: the first one at create, the others connected before start. */
  network?: string | string[];
  labels?: Record<string, string>;
  env?: Record<string, string>;
  /** `-p` arguments. */
  publish?: string[];
  /** Command; default the image's `sleep infinity`. */
  cmd?: string[];
  restart?: "no" | "always" | "unless-stopped";
  /** Fixed IPv4 address on the first network. */
  ip?: string;
  /** Create the container and connect its networks, but do not start it. */
  detachOnly?: boolean;
  /** `--runtime NAME` (e.g. `dockernet`, after {@link TestEngine.installRuntime}). */
  runtime?: string;
  /** `--dns` servers. */
  dns?: string[];
}

/** One route of `ip -j route show`. */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
  [k: string]: unknown;
}

/** A container created by {@link TestEngine.run}. */
export interface TestContainer {
  id: string;
  name: string;
  /**
   * Host pid of the container's init (`State.Pid`); throws when it is not running. While dockerd is
   * down, the last pid seen is returned if that process still exists.
   */
  pid(): Promise<number>;
  /** IPv4 address on `network` (default: the first attached network, in name order). */
  ip(network?: string): Promise<string>;
  /** Global IPv6 address on `network` (default as for `ip`). */
  ip6(network?: string): Promise<string>;
  /** Parsed `ip -j [-6] route show [table X]` inside the container's netns. */
  routes(options?: { table?: string; family?: 4 | 6 }): Promise<IpRoute[]>;
  /** Raw `ip [-6] route show` inside the container's netns. */
  routesText(options?: { family?: 4 | 6 }): Promise<string>;
  /** `nsenter -t PID -n ARGS...` from the host; a non-zero exit is returned, not thrown. */
  nsExec(args: string[]): Promise<ExecResult>;
  /** `docker exec ID ARGS...`; a non-zero exit is returned, not thrown. */
  exec(args: string[]): Promise<ExecResult>;
  start(): Promise<void>;
  /** `docker stop -t 1`. */
  stop(): Promise<void>;
  /** `docker restart -t 1`. */
  restart(): Promise<void>;
  /** `docker rm -f`. */
  remove(): Promise<void>;
}

interface Tools {
  containerd: string;
  docker: string;
  dockerd: string;
  ip: string;
  nsenter: string;
  setsid: string;
}

/** Finds the programs the engine needs, or throws an error saying how to get them. */
async function findTools(): Promise<Tools> {
  if (process.getuid?.() !== 0) throw new Error("the test engine needs root (network namespaces, dockerd)");
  const packages = {
    containerd: "containerd",
    docker: "docker.io",
    dockerd: "docker.io",
    ip: "iproute2",
    nsenter: "util-linux",
    setsid: "util-linux",
    tar: "tar",
    umount: "mount",
  };
  const found: Record<string, string> = {};
  for (const [command, pkg] of Object.entries(packages)) {
    const path = await which(command);
    if (!path) throw new Error(`${command} not found (Debian package ${pkg}): run test/support/setup.sh`);
    found[command] = path;
  }
  return found as unknown as Tools;
}

/** PATH for dockerd, which looks up containerd, runc, iptables and docker-proxy on it. */
const daemonPath = [process.env.PATH, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
  .filter(Boolean)
  .join(":");

/** True when something accepts connections on the unix socket. */
function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** Resolves with the HTTP status of GET /_ping on a unix socket, or 0 when nothing answers. */
function ping(socketPath: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let reply = "";
    socket.setTimeout(2000, () => socket.destroy());
    socket.on("connect", () => socket.write("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"));
    socket.on("data", (chunk) => (reply += chunk.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => resolve(Number(/^HTTP\/1\.\d (\d{3})/.exec(reply)?.[1] ?? 0)));
  });
}

/** A throwaway dockerd in its own network namespace. Create with {@link TestEngine.start}. */
export class TestEngine implements AsyncDisposable {
  /** Network namespace name. */
  readonly name: string;
  /** `unix://<dir>/docker.sock`, for DOCKER_HOST. */
  readonly host: string;
  readonly socketPath: string;
  /** Random id; every container and network created here is labelled `dockernet.test=<runId>`. */
  readonly runId: string;
  /** Tag of the busybox test image (`CMD ["sleep","infinity"]`). */
  readonly image: string = TEST_IMAGE;
  /** The engine's work dir: data, exec root, socket, pid file, dockerd.log. */
  readonly dir: string;
  readonly #tools: Tools;
  readonly #daemonArgs: string[];
  readonly #containerdSocket: string;
  /** The persistent mount namespace dockerd runs in when it has a resolv.conf of its own. */
  #mountNs?: string;
  #daemonPid = 0;

  private constructor(tools: Tools, name: string, subnet: number, liveRestore: boolean, extraArgs: string[]) {
    this.#tools = tools;
    this.name = name;
    this.dir = join(tmpdir(), `dockernet-engine-${name}`);
    this.socketPath = join(this.dir, "docker.sock");
    this.host = `unix://${this.socketPath}`;
    this.runId = randomBytes(6).toString("hex");
    this.#containerdSocket = join(this.dir, "exec/containerd/containerd.sock");
    this.#daemonArgs = [
      "--config-file", this.daemonJson,
      "--storage-driver=vfs",
      "--data-root", join(this.dir, "data"),
      "--exec-root", join(this.dir, "exec"),
      "-H", this.host,
      "--pidfile", join(this.dir, "docker.pid"),
      "--bip", `10.213.${subnet}.1/24`,
      "--containerd", this.#containerdSocket,
      "--shutdown-timeout", "1",
      ...(liveRestore ? ["--live-restore"] : []),
      ...extraArgs,
    ];
  }

  /**
   * Clears whatever an earlier run of engine `name` left behind, creates the netns, starts
   * dockerd and imports the test image. Throws (never skips) when something is missing.
   */
  static async start(options: EngineOptions = {}): Promise<TestEngine> {
    const { name = "dntest", subnet = 90, liveRestore = false, extraArgs = [], resolvConf } = options;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/.test(name)) throw new Error(`bad test engine name: ${name}`);
    if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new Error(`bad test engine subnet: ${subnet}`);
    const engine = new TestEngine(await findTools(), name, subnet, liveRestore, extraArgs);
    const { ip } = engine.#tools;
    await clearEngine(ip, name, engine.dir);
    try {
      await mkdir(engine.dir, { recursive: true, mode: 0o700 });
      await writeFile(engine.daemonJson, "{}\n"); // not the host's /etc/docker/daemon.json
      await exec(ip, ["netns", "add", name]);
      await exec(ip, ["-n", name, "link", "set", "lo", "up"]);
      if (resolvConf !== undefined) await engine.#ownResolvConf(resolvConf);
      await engine.#startContainerd();
      await engine.startDaemon();
      const found = await engine.docker(["image", "inspect", engine.image], { allowFail: true });
      if (found.code !== 0) await buildTestImage((args, opts) => engine.docker(args, opts), engine.image);
    } catch (error) {
      await engine.stop().catch(() => {});
      throw error;
    }
    return engine;
  }

  /** Runs the docker CLI against this engine; throws with stderr folded in unless allowFail. */
  docker(args: string[], options: { input?: string; allowFail?: boolean } = {}): Promise<ExecResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(this.dir, "cli"), DOCKER_CLI_HINTS: "false" };
    delete env.DOCKER_CONTEXT;
    delete env.DOCKER_HOST;
    return exec(this.#tools.docker, ["-H", this.host, ...args], { ...options, env });
  }

  /** Creates a network labelled with the run id. */
  async network(name: string, options: NetworkOptions = {}): Promise<TestNetwork> {
    const args = ["network", "create", "--label", `${TEST_LABEL}=${this.runId}`];
    for (const [k, v] of Object.entries(options.labels ?? {})) args.push("--label", `${k}=${v}`);
    if (options.driver) args.push("--driver", options.driver);
    if (options.subnet) args.push("--subnet", options.subnet);
    if (options.gateway) args.push("--gateway", options.gateway);
    if (options.ipv6 || options.ipv6Subnet) args.push("--ipv6");
    if (options.ipv6Subnet) args.push("--subnet", options.ipv6Subnet);
    if (options.internal) args.push("--internal");
    const id = (await this.docker([...args, name])).stdout.trim();
    return { name, id, remove: async () => void (await this.docker(["network", "rm", id])) };
  }

  /** Creates (and unless `detachOnly`, starts) a container named exactly `name`, labelled with the run id. */
  async run(name: string, options: RunOptions = {}): Promise<TestContainer> {
    const [first, ...others] = options.network === undefined ? [] : [options.network].flat();
    // `sleep` as pid 1 ignores SIGTERM: a 1 s stop timeout keeps docker stop and daemon shutdown short.
    const args = ["create", "--name", name, "--label", `${TEST_LABEL}=${this.runId}`, "--stop-timeout", "1"];
    for (const [k, v] of Object.entries(options.labels ?? {})) args.push("--label", `${k}=${v}`);
    for (const [k, v] of Object.entries(options.env ?? {})) args.push("--env", `${k}=${v}`);
    for (const p of options.publish ?? []) args.push("--publish", p);
    if (options.restart) args.push("--restart", options.restart);
    if (first) args.push("--network", first);
    if (options.ip) args.push("--ip", options.ip);
    if (options.runtime) args.push("--runtime", options.runtime);
    for (const server of options.dns ?? []) args.push("--dns", server);
    const id = (await this.docker([...args, this.image, ...(options.cmd ?? [])])).stdout.trim();
    for (const network of others) await this.docker(["network", "connect", network, id]);
    if (!options.detachOnly) await this.docker(["start", id]);
    return new Container(this, id, name, this.#tools);
  }

  /**
   * Starts `program args...` in the engine's netns as a grandchild in its own session, output
   * appended to `dir/<log>`. `bun test` kills the processes it saw spawned when any test times
   * out, which would take a shared engine down with it; `setsid --wait` is the child it sees, and
   * exits with the program's status. Returns a function telling whether the program has exited.
   */
  async #spawnInNetns(program: string, args: string[], log: string, mountNs?: string): Promise<() => boolean> {
    const file = await open(join(this.dir, log), "a");
    let child: ChildProcess;
    try {
      const { setsid, nsenter } = this.#tools;
      const mount = mountNs === undefined ? [] : [`--mount=${mountNs}`];
      child = spawn(setsid, ["--fork", "--wait", nsenter, `--net=/run/netns/${this.name}`, ...mount, program, ...args], {
        detached: true,
        stdio: ["ignore", file.fd, file.fd],
        env: { ...process.env, PATH: daemonPath },
      });
    } finally {
      await file.close();
    }
    child.unref();
    let dead = false;
    child.once("exit", () => (dead = true));
    child.once("error", () => (dead = true));
    return () => dead;
  }

  /** Throws an error about `what`, with the tail of `dir/<log>`. */
  async #fail(what: string, log: string): Promise<never> {
    const path = join(this.dir, log);
    const tail = (await readFile(path, "utf8").catch(() => "")).split("\n").slice(-25).join("\n");
    throw new Error(`test engine ${this.name}: ${what}; tail of ${path}:\n${tail}`);
  }

  /**
   * A persistent mount namespace (a slave of the host's: nothing mounted in it shows on the host)
   * whose /etc/resolv.conf is `text`, for dockerd alone. It lives under the work dir, so
   * clearEngine unmounts it with everything else.
   */
  async #ownResolvConf(text: string): Promise<void> {
    const holder = join(this.dir, "mnt");
    await mkdir(holder);
    // unshare binds the namespace to a file only on a mount that is not shared.
    await exec("mount", ["--bind", holder, holder]);
    await exec("mount", ["--make-private", holder]);
    const namespace = join(holder, "ns");
    await writeFile(namespace, "");
    await writeFile(join(this.dir, "resolv.conf"), text);
    await exec("unshare", [`--mount=${namespace}`, "--propagation", "slave", "true"]);
    await exec(this.#tools.nsenter, [`--mount=${namespace}`, "mount", "--bind", join(this.dir, "resolv.conf"), "/etc/resolv.conf"]);
    this.#mountNs = namespace;
  }

  /**
   * Starts the engine's own containerd. Left to itself dockerd would use the host's containerd
   * whenever /run/containerd/containerd.sock exists (any machine running Docker CE).
   */
  async #startContainerd(): Promise<void> {
    const { containerd } = this.#tools;
    const config = join(this.dir, "containerd.toml");
    const root = join(this.dir, "data/containerd");
    await writeFile(
      config,
      [
        "version = 2",
        `root = ${JSON.stringify(root)}`,
        `state = ${JSON.stringify(join(this.dir, "exec/containerd"))}`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        "[grpc]",
        `  address = ${JSON.stringify(this.#containerdSocket)}`,
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = ${JSON.stringify(join(root, "opt"))}`,
        "",
      ].join("\n"),
    );
    const dead = await this.#spawnInNetns(containerd, ["--config", config], "containerd.log");
    for (const deadline = Date.now() + 15_000; ; await sleep(50)) {
      if (await canConnect(this.#containerdSocket)) return;
      if (dead()) await this.#fail("containerd exited", "containerd.log");
      if (Date.now() > deadline) await this.#fail("containerd did not listen within 15 s", "containerd.log");
    }
  }

  /** Starts dockerd (after {@link stopDaemon}) and waits up to 30 s for it to answer /_ping. */
  async startDaemon(): Promise<void> {
    if (this.#daemonPid) throw new Error(`test engine ${this.name}: dockerd is already running`);
    const pidfile = join(this.dir, "docker.pid");
    await rm(this.socketPath, { force: true });
    await rm(pidfile, { force: true });
    const dead = await this.#spawnInNetns(this.#tools.dockerd, this.#daemonArgs, "dockerd.log", this.#mountNs);
    for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
      if ((await ping(this.socketPath)) === 200) {
        this.#daemonPid = Number(await readFile(pidfile, "utf8"));
        return;
      }
      if (dead() || Date.now() > deadline) {
        const pid = Number(await readFile(pidfile, "utf8").catch(() => ""));
        if (pid) await kill(pid, "SIGKILL");
        await this.#fail(dead() ? "dockerd exited" : "dockerd did not answer /_ping within 30 s", "dockerd.log");
      }
    }
  }

  /** Stops dockerd with SIGTERM and waits for it to exit (SIGKILL after 30 s). */
  async stopDaemon(): Promise<void> {
    const pid = this.#daemonPid;
    if (!pid) return;
    this.#daemonPid = 0;
    if (!(await kill(pid, "SIGTERM", 30_000))) await kill(pid, "SIGKILL");
  }

  /** The mount namespace dockerd runs in when the engine has a resolv.conf of its own (`nsenter --mount=` it to see what dockerd sees). */
  get mountNamespace(): string | undefined {
    return this.#mountNs;
  }

  /** Runs `args` in the engine's network namespace (where dockerd is the "host"); a non-zero exit is returned, not thrown. */
  hostExec(args: string[]): Promise<ExecResult> {
    return exec(this.#tools.nsenter, [`--net=/run/netns/${this.name}`, ...args], { allowFail: true, timeoutMs: 20_000 });
  }

  /** The engine's own daemon config (`--config-file`), never the host's /etc/docker/daemon.json. */
  get daemonJson(): string {
    return join(this.dir, "daemon.json");
  }

  /** Sends dockerd SIGHUP: it reads `runtimes` and `default-runtime` of its daemon config again. */
  async reload(): Promise<void> {
    if (!this.#daemonPid) throw new Error(`test engine ${this.name}: dockerd is not running`);
    process.kill(this.#daemonPid, "SIGHUP");
  }

  /**
   * Registers the compiled dockernet `binary` as this engine's OCI runtime `dockernet` the way an
   * operator does (`warp runtime install --daemon-json`, then SIGHUP), and waits until dockerd
   * lists it. `extra` are more words for `runtime install` (`--default`).
   */
  async installRuntime(binary: string, extra: string[] = []): Promise<ExecResult> {
    const installed = await exec(binary, ["warp", "runtime", "install", "--daemon-json", this.daemonJson, "--docker-host", this.host, ...extra], {
      env: { PATH: daemonPath, HOME: process.env.HOME },
    });
    await this.reload();
    for (const deadline = Date.now() + 10_000; ; await sleep(50)) {
      const runtimes = (await this.docker(["info", "--format", "{{json .Runtimes}}"])).stdout;
      if (runtimes.includes('"dockernet"')) return installed;
      if (Date.now() > deadline) throw new Error(`test engine ${this.name}: dockerd did not list runtime dockernet after SIGHUP (${runtimes.trim()})`);
    }
  }

  /** Takes the runtime out again (`warp runtime uninstall`) and reloads dockerd. */
  async uninstallRuntime(binary: string): Promise<ExecResult> {
    const removed = await exec(binary, ["warp", "runtime", "uninstall", "--daemon-json", this.daemonJson], { env: { PATH: daemonPath, HOME: process.env.HOME } });
    await this.reload();
    return removed;
  }

  /** Stops dockerd and starts it again with the same directories and flags. */
  async restart(): Promise<void> {
    await this.stopDaemon();
    await this.startDaemon();
  }

  /** Removes every container (forced) and network labelled with this run id. */
  async cleanup(): Promise<void> {
    const filter = ["--filter", `label=${TEST_LABEL}=${this.runId}`];
    const ids = (out: ExecResult) => out.stdout.split("\n").filter(Boolean);
    const containers = ids(await this.docker(["ps", "-aq", ...filter]));
    if (containers.length > 0) await this.docker(["rm", "-f", ...containers]);
    const networks = ids(await this.docker(["network", "ls", "-q", ...filter]));
    // After many containers are removed at once, Docker 20.10 can keep stale endpoints on a network:
    // wait a little, then force them off (`network disconnect -f`, as an operator would).
    for (let attempt = 1; networks.length > 0; attempt++) {
      const removed = await this.docker(["network", "rm", ...networks], { allowFail: true });
      if (removed.code === 0) break;
      if (!removed.stderr.includes("active endpoints")) throw new Error(`docker network rm failed: ${removed.stderr.trim()}`);
      if (attempt >= 10) {
        // Endpoints of containers whose start a daemon restart cut short can outlive them; the
        // network goes with the engine's data when it stops. Tests that follow use other names.
        console.warn(`test engine ${this.name}: left network(s) with stale endpoints: ${removed.stderr.trim()}`);
        break;
      }
      await sleep(250);
      networks.splice(0, networks.length, ...ids(await this.docker(["network", "ls", "-q", ...filter])));
      if (attempt >= 4) for (const network of networks) await this.#disconnectStale(network);
    }
  }

  async #disconnectStale(network: string): Promise<void> {
    const shown = await this.docker(["network", "inspect", "-f", "{{range .Containers}}{{.Name}}\n{{end}}", network], { allowFail: true });
    for (const endpoint of shown.stdout.split("\n").filter(Boolean)) {
      await this.docker(["network", "disconnect", "-f", network, endpoint], { allowFail: true });
    }
  }

  /** Cleans up, stops dockerd, kills stragglers, unmounts, deletes the netns and the work dir. */
  async stop(): Promise<void> {
    let failure: unknown;
    if (this.#daemonPid && (await ping(this.socketPath)) === 200) {
      await this.cleanup().catch((error: unknown) => (failure = error));
    }
    await this.stopDaemon();
    await clearEngine(this.#tools.ip, this.name, this.dir);
    if (failure) throw failure;
  }

  /** Same as {@link stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

class Container implements TestContainer {
  #lastPid = 0;

  constructor(
    private readonly engine: TestEngine,
    readonly id: string,
    readonly name: string,
    private readonly tools: Tools,
  ) {}

  async #inspect(format: string): Promise<string> {
    return (await this.engine.docker(["inspect", "--format", format, this.id])).stdout.trim();
  }

  async pid(): Promise<number> {
    let pid: number;
    try {
      pid = Number(await this.#inspect("{{.State.Pid}}"));
    } catch (error) {
      // While dockerd is down (stopDaemon, live restore) the last known pid still works.
      if (this.#lastPid && alive(this.#lastPid) && (await ping(this.engine.socketPath)) !== 200) return this.#lastPid;
      throw error;
    }
    if (!pid) throw new Error(`container ${this.name} is not running`);
    this.#lastPid = pid;
    return pid;
  }

  async #address(network: string | undefined, key: "IPAddress" | "GlobalIPv6Address"): Promise<string> {
    const networks = JSON.parse(await this.#inspect("{{json .NetworkSettings.Networks}}")) as Record<string, Record<string, string>>;
    const entry = network === undefined ? Object.values(networks)[0] : networks[network];
    const address = entry?.[key];
    if (!address) throw new Error(`container ${this.name} has no ${key} on ${network ?? "any network"}`);
    return address;
  }

  ip(network?: string): Promise<string> {
    return this.#address(network, "IPAddress");
  }

  ip6(network?: string): Promise<string> {
    return this.#address(network, "GlobalIPv6Address");
  }

  async routes(options: { table?: string; family?: 4 | 6 } = {}): Promise<IpRoute[]> {
    const args = [this.tools.ip, "-j", ...(options.family === 6 ? ["-6"] : []), "route", "show"];
    if (options.table) args.push("table", options.table);
    const out = await this.nsExec(args);
    if (out.code !== 0) throw new Error(`${args.join(" ")} in ${this.name}: ${out.stderr.trim()}`);
    const routes = JSON.parse(out.stdout.trim() || "[]") as IpRoute[];
    return routes.map((route) => ({ ...route, flags: route.flags ?? [] }));
  }

  async routesText(options: { family?: 4 | 6 } = {}): Promise<string> {
    const args = [this.tools.ip, ...(options.family === 6 ? ["-6"] : []), "route", "show"];
    const out = await this.nsExec(args);
    if (out.code !== 0) throw new Error(`${args.join(" ")} in ${this.name}: ${out.stderr.trim()}`);
    return out.stdout;
  }

  async nsExec(args: string[]): Promise<ExecResult> {
    return exec(this.tools.nsenter, ["-t", String(await this.pid()), "-n", ...args], { allowFail: true });
  }

  exec(args: string[]): Promise<ExecResult> {
    return this.engine.docker(["exec", this.id, ...args], { allowFail: true });
  }

  async start(): Promise<void> {
    await this.engine.docker(["start", this.id]);
  }

  async stop(): Promise<void> {
    await this.engine.docker(["stop", "-t", "1", this.id]);
  }

  async restart(): Promise<void> {
    await this.engine.docker(["restart", "-t", "1", this.id]);
  }

  async remove(): Promise<void> {
    await this.engine.docker(["rm", "-f", this.id]);
  }
}

/**
 * The usual hooks of a test file (or describe block) around one engine: started before its
 * tests, everything they created removed after each, stopped at the end. The value returned
 * stands for the engine once it is started (use it inside tests and hooks).
 */
export function useTestEngine(options: EngineOptions): TestEngine {
  let engine: TestEngine | undefined;
  beforeAll(async () => {
    engine = await TestEngine.start(options);
  });
  afterEach(async () => {
    await engine?.cleanup();
  });
  afterAll(async () => {
    await engine?.stop();
  });
  return new Proxy({} as TestEngine, {
    get(_, property) {
      if (engine === undefined) throw new Error(`test engine ${options.name ?? "dntest"} is used before it started`);
      const value: unknown = Reflect.get(engine, property);
      // Methods run on the engine itself: its private fields are not on the proxy.
      return typeof value === "function" ? value.bind(engine) : value;
    },
  });
}
