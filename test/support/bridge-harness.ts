/**
 * `dockernet bridge` as a user runs it, against a {@link RemoteHost}: the bridge started on a
 * socket in a work dir of its own (its own HOME and known_hosts file, so nothing of this machine's
 * ~/.ssh or ~/.dockernet is read or written), and the real docker CLI pointed at that socket.
 *
 * ```ts
 * await using bridge = await BridgeRun.start(remote, { knownHost: true });
 * await bridge.docker(["ps"]);
 * const status = await bridge.status();
 * ```
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BridgeStatus } from "../../src/modes/bridge/local/control.ts";
import { exec, which, type ExecResult } from "./_exec.ts";
import { Daemon, dockernet, waitFor } from "./dockernet.ts";
import { TEST_LABEL } from "./engine.ts";
import { listProcesses } from "./processes.ts";
import type { RemoteHost } from "./remote-host.ts";

export interface BridgeRunOptions {
  /** Write the server's current host key into the bridge's known_hosts file first (default true). */
  knownHost?: boolean;
  /** More arguments of `bridge start` (e.g. `--accept-new-host-key`). */
  args?: string[];
  /** More environment (DOCKERNET_BRIDGE_*, HCLOUD_TOKEN...). */
  env?: Record<string, string>;
  /** Another entry point (Deno); default `bun src/main.ts`. */
  command?: [string, string[]];
  /** A work dir to use (and keep); default a fresh one, removed on stop. */
  dir?: string;
  /** `--host`; default the remote host's URL. */
  host?: string;
}

/** A work dir with its own HOME and known_hosts file path. */
export async function bridgeDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "dockernet-bridge-"));
  await mkdir(join(dir, "home"), { recursive: true, mode: 0o700 });
  return dir;
}

/** Paths and environment of a bridge in `dir`. */
export function bridgeEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: join(dir, "home"), DOCKERNET_BRIDGE_KNOWN_HOSTS: join(dir, "known_hosts"), ...extra };
}

/** The `bridge start` arguments for `remote` with the socket in `dir`. */
export function startArgs(remote: RemoteHost, dir: string, options: { host?: string; args?: string[] } = {}): string[] {
  return [
    "bridge", "start",
    "--host", options.host ?? remote.url,
    "--identity", remote.identityFile,
    "--socket", join(dir, "bridge.sock"),
    "--remote-socket", remote.engine.socketPath,
    ...(options.args ?? []),
  ];
}

let dockerPath: string | undefined;

/** A running bridge and the docker CLI pointed at it. Stops it (SIGTERM) on dispose. */
export class BridgeRun implements AsyncDisposable {
  readonly daemon: Daemon;
  readonly remote: RemoteHost;
  readonly dir: string;
  /** The bridge's Docker socket. */
  readonly socket: string;
  readonly env: Record<string, string>;
  readonly #ownDir: boolean;

  private constructor(daemon: Daemon, remote: RemoteHost, dir: string, env: Record<string, string>, ownDir: boolean) {
    this.daemon = daemon;
    this.remote = remote;
    this.dir = dir;
    this.socket = join(dir, "bridge.sock");
    this.env = env;
    this.#ownDir = ownDir;
  }

  /** Starts `dockernet bridge start ... --log-format json` and waits for "bridge started". */
  static async start(remote: RemoteHost, options: BridgeRunOptions = {}): Promise<BridgeRun> {
    const dir = options.dir ?? (await bridgeDir());
    const env = bridgeEnv(dir, options.env);
    if (options.knownHost ?? true) await writeFile(env.DOCKERNET_BRIDGE_KNOWN_HOSTS as string, remote.knownHostsLine);
    try {
      const daemon = await Daemon.start(remote.engine, startArgs(remote, dir, options), { ready: "bridge started", env, command: options.command });
      return new BridgeRun(daemon, remote, dir, env, options.dir === undefined);
    } catch (error) {
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Runs the docker CLI against the bridge (legacy builder: see {@link dockerEnv}). */
  async docker(args: string[], options: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): Promise<ExecResult> {
    dockerPath ??= (await which("docker")) ?? "docker";
    return exec(dockerPath, args, { input: options.input, allowFail: options.allowFail, timeoutMs: options.timeoutMs ?? 60_000, env: dockerEnv(this.socket, this.dir) });
  }

  /** `docker run` arguments that label the container for the remote engine's cleanup. */
  runArgs(...args: string[]): string[] {
    return ["run", "--label", `${TEST_LABEL}=${this.remote.engine.runId}`, ...args];
  }

  /** Runs `dockernet ARGS... --socket <this bridge's>` with the bridge's environment. */
  cli(args: string[], env: Record<string, string> = {}): Promise<ExecResult> {
    return dockernet(this.remote.engine, [...args, "--socket", this.socket], { env: { ...this.env, ...env } });
  }

  /** `bridge status --json`, parsed. */
  async status(): Promise<BridgeStatus> {
    const result = await this.cli(["bridge", "status", "--json"]);
    if (result.code !== 0) throw new Error(`bridge status failed (${result.code}): ${result.stderr}`);
    return JSON.parse(result.stdout) as BridgeStatus;
  }

  /** Waits until the container's forward of `requested` is listed; returns it. */
  async forward(container: string, requested: number, timeoutMs = 15_000): Promise<BridgeStatus["forwards"][number]> {
    return await waitFor(`a forward of ${container}:${requested}`, async () => (await this.status()).forwards.find((forward) => forward.container === container && forward.requested === requested), timeoutMs, 100);
  }

  /** Log lines whose message is `msg`. */
  logged(msg: string): ReturnType<Daemon["find"]> {
    return this.daemon.find((line) => line.msg === msg);
  }

  async stop(): Promise<number> {
    const { code } = await this.daemon.stop();
    if (this.#ownDir) await rm(this.dir, { recursive: true, force: true });
    return code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * The docker CLI's environment for a bridge socket: no config or context of this machine's, and
 * the legacy builder (DOCKER_BUILDKIT=0): the CLI here has no buildx plugin, and without it a CLI
 * asked for BuildKit fails instead of building.
 */
export function dockerEnv(socket: string, dir: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: join(dir, "home"), DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, "docker-cli"), DOCKER_CLI_HINTS: "false", DOCKER_BUILDKIT: "0" };
}

/** One HTTP GET of http://127.0.0.1:PORT/PATH: status and body, or the connection error. */
export function httpGet(port: number, path = "/", host = "127.0.0.1"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 5000, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", reject);
    req.end();
  });
}

/** Retries a GET until it answers 200 (the forward and the server in the container both up). */
export async function httpBody(port: number, timeoutMs = 15_000, host = "127.0.0.1"): Promise<string> {
  return (await waitFor(`HTTP 200 on ${host}:${port}`, async () => {
    const answer = await httpGet(port, "/", host);
    return answer.status === 200 ? answer : undefined;
  }, timeoutMs, 100)).body;
}

/** The shell command of a busybox httpd serving `text` at / on port 80. */
export function httpdCommand(text: string): string[] {
  return ["sh", "-c", `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];
}

/**
 * Leaves a Unix socket at `path` that nothing listens on (a process that bound it was killed):
 * what a dockerd that is restarting leaves. Connecting to it is refused, and OpenSSH answers a
 * stream-local channel to it with the same "open failed" as a server that forbids them.
 */
export async function deadSocketAt(path: string): Promise<void> {
  const leave = `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"));`;
  await new Promise((resolve) => spawn(process.execPath, ["-e", leave], { stdio: "ignore" }).once("exit", resolve));
  if (!(await stat(path)).isSocket()) throw new Error(`no socket left at ${path}`);
}

/** How many `docker system dial-stdio` sessions to `remote`'s engine run on it now (each is one Docker connection over dial-stdio). */
export async function dialStdioSessions(remote: RemoteHost): Promise<number> {
  const sessions = (await listProcesses()).filter(({ cmdline }) => cmdline.includes(`unix://${remote.engine.socketPath} system dial-stdio`) && !cmdline.startsWith("bash ") && !cmdline.startsWith("sh "));
  return sessions.length;
}
