/**
 * A second "remote host" for bridge tests: a throwaway engine ({@link TestEngine}) in its own
 * network namespace, joined to this host by a veth pair (10.231.N.1/30 here, 10.231.N.2/30 there),
 * with a real OpenSSH `sshd` on 10.231.N.2:22 that lets root in with a generated key and points the
 * remote `docker` at the engine (what `docker system dial-stdio` connects to).
 *
 * ```ts
 * await using remote = await RemoteHost.start({ name: "dntest-remote1", subnet: 115 });
 * await writeFile(knownHosts, remote.knownHostsLine);
 * // ssh -i remote.identityFile root@remote.address  /  dockernet bridge start --host remote.url
 * await remote.killSessions(); // cuts every SSH connection; the listener stays
 * ```
 *
 * It starts cleanly after an earlier run was killed mid-way: whatever that run left (sshd, agent,
 * veth, namespace, files) is cleared first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, gone, sleep, which } from "./_exec.ts";
import { TestEngine } from "./engine.ts";
import { killAll, listProcesses, type Proc } from "./processes.ts";

/** Options for {@link RemoteHost.start}. */
export interface RemoteHostOptions {
  /** The engine's namespace name (use `dntest-remote*`); default "dntest-remote". */
  name?: string;
  /** N in the engine's `--bip 10.213.N.1/24` and the veth's 10.231.N.0/30 (use 115-118); default 115. */
  subnet?: number;
  /** `AllowStreamLocalForwarding` of the sshd; default true. */
  allowStreamLocal?: boolean;
}

/** Options for {@link RemoteHost.startSshd}. */
export interface SshdOptions {
  /** `AllowStreamLocalForwarding yes|no`; default: as last started. */
  allowStreamLocal?: boolean;
}

/** `pids` and every process below them. */
function withDescendants(procs: Proc[], pids: number[]): number[] {
  const found = new Set(pids);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/** True once something accepts TCP connections on host:port. */
function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000, () => socket.destroy());
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });
}

/** A remote host with its own engine and sshd. Create with {@link RemoteHost.start}. */
export class RemoteHost implements AsyncDisposable {
  /** The remote host's engine (its own dockerd, its own namespace). */
  readonly engine: TestEngine;
  /** The sshd's address, on the remote end of the veth: 10.231.N.2. */
  readonly address: string;
  /** This host's end of the veth: 10.231.N.1 (reachable from the remote host). */
  readonly hostAddress: string;
  /** `ssh://root@10.231.N.2:22`. */
  readonly url: string;
  /** The client key root may log in with (OpenSSH format, no passphrase). */
  readonly identityFile: string;
  /** Another key, which the server does not accept. */
  readonly strangerIdentityFile: string;
  /** Work dir: keys, sshd_config, sshd.log, pid file. */
  readonly dir: string;
  /** Interface names: here (root namespace) and there (the engine's namespace). */
  readonly hostLink: string;
  readonly remoteLink = "uplink0";
  #allowStreamLocal: boolean;
  #agent: { process: ChildProcess; socket: string } | undefined;

  private constructor(engine: TestEngine, subnet: number, dir: string, allowStreamLocal: boolean) {
    this.engine = engine;
    this.address = `10.231.${subnet}.2`;
    this.hostAddress = `10.231.${subnet}.1`;
    this.url = `ssh://root@${this.address}:22`;
    this.dir = dir;
    this.identityFile = join(dir, "client_key");
    this.strangerIdentityFile = join(dir, "stranger_key");
    this.hostLink = RemoteHost.#hostLinkName(subnet);
    this.#allowStreamLocal = allowStreamLocal;
  }

  static #hostLinkName(subnet: number): string {
    return `dnremote${subnet}`;
  }

  static #dirFor(name: string): string {
    return join(tmpdir(), `dockernet-remote-${name}`);
  }

  /** Clears leftovers, starts the engine, joins it by veth, generates keys and starts sshd. */
  static async start(options: RemoteHostOptions = {}): Promise<RemoteHost> {
    const { name = "dntest-remote", subnet = 115, allowStreamLocal = true } = options;
    if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new Error(`bad remote host subnet: ${subnet}`);
    const dir = RemoteHost.#dirFor(name);
    await RemoteHost.#clearLeftovers(dir, RemoteHost.#hostLinkName(subnet));
    const engine = await TestEngine.start({ name, subnet });
    const remote = new RemoteHost(engine, subnet, dir, allowStreamLocal);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await remote.#joinByVeth();
      for (const key of [remote.identityFile, remote.strangerIdentityFile]) {
        await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "dockernet-test", "-f", key]);
      }
      await exec("cp", [`${remote.identityFile}.pub`, join(dir, "authorized_keys")]);
      await remote.#generateHostKey();
      await mkdir("/run/sshd", { recursive: true }); // sshd's privilege separation directory
      await remote.startSshd();
    } catch (error) {
      await remote.stop().catch(() => {});
      throw error;
    }
    return remote;
  }

  /** Kills the sshd and agent of an earlier run (found by their files' dir), removes our veth and files. */
  static async #clearLeftovers(dir: string, hostLink: string): Promise<void> {
    const pidfile = Number(await readFile(join(dir, "sshd.pid"), "utf8").catch(() => ""));
    const procs = await listProcesses();
    const stale = procs.filter((p) => p.cmdline.includes(`${dir}/`) || (p.pid === pidfile && p.comm === "sshd")).map((p) => p.pid);
    if (stale.length > 0) await killAll(withDescendants(procs, stale));
    const ip = (await which("ip")) ?? "ip";
    // The pair also goes away with the engine's namespace, a moment after it is deleted.
    const exists = () => stat(`/sys/class/net/${hostLink}`).then(() => true, () => false);
    for (const deadline = Date.now() + 5000; await exists(); await sleep(50)) {
      const deleted = await exec(ip, ["link", "delete", hostLink], { allowFail: true });
      if (deleted.code !== 0 && Date.now() > deadline) throw new Error(`cannot delete veth ${hostLink}: ${deleted.stderr.trim()}`);
    }
    await rm(dir, { recursive: true, force: true });
  }

  async #joinByVeth(): Promise<void> {
    const ip = (await which("ip")) ?? "ip";
    const ns = this.engine.name;
    await exec(ip, ["link", "add", this.hostLink, "type", "veth", "peer", "name", this.remoteLink, "netns", ns]);
    await exec(ip, ["addr", "add", `${this.hostAddress}/30`, "dev", this.hostLink]);
    await exec(ip, ["link", "set", this.hostLink, "up"]);
    await exec(ip, ["-n", ns, "addr", "add", `${this.address}/30`, "dev", this.remoteLink]);
    await exec(ip, ["-n", ns, "link", "set", this.remoteLink, "up"]);
  }

  /** Host keys: `host_key` (ed25519, what clients get by default) and `host_key_ecdsa`. */
  async #generateHostKey(): Promise<void> {
    for (const [file, type] of [["host_key", "ed25519"], ["host_key_ecdsa", "ecdsa"]] as const) {
      const key = join(this.dir, file);
      await rm(key, { force: true });
      await rm(`${key}.pub`, { force: true });
      await exec("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "dockernet-test-host", "-f", key]);
    }
  }

  /** Whether the sshd (last) started allows stream-local forwarding. */
  get allowStreamLocal(): boolean {
    return this.#allowStreamLocal;
  }

  /** The server's current key as a known_hosts line (`10.231.N.2 ssh-ed25519 AAAA...`), with a newline. */
  get knownHostsLine(): string {
    return this.#knownHostsLine;
  }
  #knownHostsLine = "";

  /** The server's other key (ecdsa-sha2-nistp256) as a known_hosts line: what an older client may have recorded. */
  get ecdsaKnownHostsLine(): string {
    return this.#ecdsaKnownHostsLine;
  }
  #ecdsaKnownHostsLine = "";

  /** The fingerprint of the server's current (ed25519, or `ecdsa`) key as `ssh-keygen -l` prints it (`SHA256:...`). */
  async hostKeyFingerprint(type: "ed25519" | "ecdsa" = "ed25519"): Promise<string> {
    const file = type === "ecdsa" ? "host_key_ecdsa.pub" : "host_key.pub";
    const out = await exec("ssh-keygen", ["-l", "-E", "sha256", "-f", join(this.dir, file)]);
    const print = out.stdout.split(" ")[1];
    if (!print?.startsWith("SHA256:")) throw new Error(`unexpected ssh-keygen -l output: ${out.stdout}`);
    return print;
  }

  /** The sshd listener's pid, or 0 when it is not running. */
  async sshdPid(): Promise<number> {
    const pid = Number(await readFile(join(this.dir, "sshd.pid"), "utf8").catch(() => ""));
    return pid && !(await gone(pid)) ? pid : 0;
  }

  /**
   * Starts the sshd listener (it daemonizes itself, so no test runner owns it) and waits until it
   * accepts connections on 10.231.N.2:22.
   */
  async startSshd(options: SshdOptions = {}): Promise<void> {
    if (await this.sshdPid()) throw new Error("sshd is already running");
    this.#allowStreamLocal = options.allowStreamLocal ?? this.#allowStreamLocal;
    const line = async (file: string) => {
      const [type, key] = (await readFile(join(this.dir, file), "utf8")).split(" ");
      return `${this.address} ${type} ${key}\n`;
    };
    this.#knownHostsLine = await line("host_key.pub");
    this.#ecdsaKnownHostsLine = await line("host_key_ecdsa.pub");
    const config = join(this.dir, "sshd_config");
    await writeFile(
      config,
      [
        "Port 22",
        `ListenAddress ${this.address}`,
        `HostKey ${join(this.dir, "host_key")}`,
        `HostKey ${join(this.dir, "host_key_ecdsa")}`,
        `AuthorizedKeysFile ${join(this.dir, "authorized_keys")}`,
        `PidFile ${join(this.dir, "sshd.pid")}`,
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "StrictModes no",
        "UsePAM no",
        "UseDNS no",
        "PrintMotd no",
        "AllowTcpForwarding yes",
        `AllowStreamLocalForwarding ${this.#allowStreamLocal ? "yes" : "no"}`,
        // dial-stdio channels are sessions: the default of 10 per connection is too few for load tests.
        "MaxSessions 200",
        "MaxStartups 100:30:200",
        "LogLevel VERBOSE",
        // SHLVL=1: Debian's bash sources ~/.bashrc for a command run by sshd only at the top shell level,
        // so the test host's sessions never run this machine's root dotfiles (a `pyenv rehash` there
        // waits a minute on a lock that a killed session left behind, and every exec with it).
        `SetEnv DOCKER_HOST=${this.engine.host} PATH=${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}:/usr/local/bin:/usr/bin:/bin SHLVL=1`,
        "",
      ].join("\n"),
    );
    const sshd = (await which("sshd")) ?? "/usr/sbin/sshd";
    const log = join(this.dir, "sshd.log");
    await rm(join(this.dir, "sshd.pid"), { force: true });
    const started = await exec("nsenter", [`--net=/run/netns/${this.engine.name}`, sshd, "-f", config, "-E", log], { allowFail: true, timeoutMs: 20_000 });
    if (started.code !== 0) await this.#fail(`sshd exited with ${started.code}: ${started.stderr.trim()}`);
    for (const deadline = Date.now() + 10_000; ; await sleep(50)) {
      if ((await this.sshdPid()) && (await canConnect(this.address, 22))) return;
      if (Date.now() > deadline) await this.#fail("sshd did not listen within 10 s");
    }
  }

  async #fail(what: string): Promise<never> {
    const tail = (await readFile(join(this.dir, "sshd.log"), "utf8").catch(() => "")).split("\n").slice(-20).join("\n");
    throw new Error(`remote host ${this.engine.name}: ${what}; tail of sshd.log:\n${tail}`);
  }

  /** Stops the sshd listener (SIGTERM); connections it already serves go on. */
  async stopSshd(): Promise<void> {
    const pid = await this.sshdPid();
    if (!pid) return;
    process.kill(pid, "SIGTERM");
    for (const deadline = Date.now() + 10_000; !(await gone(pid)); await sleep(25)) {
      if (Date.now() > deadline) await killAll([pid]);
    }
  }

  /** The sshd processes serving connections (not the listener), with what runs below them. */
  async sessions(): Promise<number[]> {
    const nsIno = (await stat(`/run/netns/${this.engine.name}`)).ino;
    const listener = await this.sshdPid();
    const procs = await listProcesses();
    const servers = procs.filter((p) => p.comm === "sshd" && p.pid !== listener && p.netns === `net:[${nsIno}]`).map((p) => p.pid);
    return withDescendants(procs, servers);
  }

  /** SIGKILLs every sshd process serving a connection (cutting them all); the listener stays. Returns how many died. */
  async killSessions(): Promise<number> {
    const pids = await this.sessions();
    await killAll(pids);
    return pids.length;
  }

  /**
   * Makes `key` (OpenSSH private key text and its `.pub` line) the server's ed25519 host key, as a
   * provider's cloud-init would install it; sshd serves it from its next start.
   */
  async setHostKey(key: { privateKey: string; publicKey: string }): Promise<void> {
    await writeFile(join(this.dir, "host_key"), key.privateKey, { mode: 0o600 });
    await writeFile(join(this.dir, "host_key.pub"), `${key.publicKey.trim()}\n`);
  }

  /** New host keys, and sshd restarted with them: clients that knew an old one see a changed key. */
  async rotateHostKey(): Promise<void> {
    await this.stopSshd();
    await this.#generateHostKey();
    await this.startSshd();
  }

  /**
   * Takes the remote end of the veth down (`false`) or up again (`true`): packets to the server are
   * dropped silently, so an established SSH connection only notices by its keep-alives.
   */
  async setLinkUp(up: boolean): Promise<void> {
    const ip = (await which("ip")) ?? "ip";
    await exec(ip, ["-n", this.engine.name, "link", "set", this.remoteLink, up ? "up" : "down"]);
  }

  /** An ssh-agent holding the client key (started on first use); returns its socket, for SSH_AUTH_SOCK. */
  async agent(): Promise<string> {
    if (this.#agent) return this.#agent.socket;
    const socket = join(this.dir, "agent.sock");
    const child = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    this.#agent = { process: child, socket };
    for (const deadline = Date.now() + 5000; !(await stat(socket).then(() => true, () => false)); await sleep(25)) {
      if (Date.now() > deadline) throw new Error("ssh-agent did not create its socket within 5 s");
    }
    await exec("ssh-add", ["-q", this.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    return socket;
  }

  /** Kills sshd (listener and sessions) and the agent, stops the engine (the veth goes with its namespace), removes the files. */
  async stop(): Promise<void> {
    this.#agent?.process.kill("SIGKILL");
    this.#agent = undefined;
    const listener = await this.sshdPid();
    const sessions = await this.sessions().catch(() => []);
    await killAll([...(listener ? [listener] : []), ...sessions]);
    await this.engine.stop();
    await RemoteHost.#clearLeftovers(this.dir, this.hostLink);
  }

  /** Same as {@link stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
