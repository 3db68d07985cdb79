/**
 * Issue 19, the bridge's part of "the first hour": each stumble as a row run against the compiled
 * binary the way a new user runs it, checking what is printed and the exit code. The SSH servers
 * are real: an OpenSSH sshd on loopback whose host key nobody recorded, and a TCP listener that
 * accepts and never says a word. `bridge status` reads a real control socket answering a status
 * with a warning (the warnings a running bridge records are in test/integration/bridge.test.ts).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { serveBridgeControl, type BridgeControl } from "../support/bridge-control.ts";
import { repoRoot } from "../support/dockernet.ts";
import { ensureBinary } from "../support/flow-image.ts";
import { runFirstHourRow, type FirstHourRow } from "../support/first-hour.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

setDefaultTimeout(90_000);

/** One row: a command line and what the user must see (`{name}` filled from `scene` below). */
type Row = FirstHourRow;

const host = ["bridge", "start", "--socket", "{dir}/bridge.sock", "--host"];
const helpFlags = { start: ["--host", "--identity", "--remote-socket", "--socket", "--accept-new-host-key", "--provider", "--idle-timeout", "--detach"] };

const rows: Row[] = [
  ...[
    ["ssh://root@10.0.0.1:22x", 'has a port that is not a number ("22x")'],
    ["ssh://root@:2222", "has no host name (ssh://[user@]host[:port])"],
    ["ssh://root@10.0.0.1:99999", "has port 99999, out of range (1-65535)"],
  ].map(([url, why]) => ({
    item: `5: --host ${url}: the flag, the value and what is wrong, exit 2`,
    args: [...host, url as string],
    exit: 2,
    stderr: [`bridge.host: ${JSON.stringify(url)} ${why} (from flag --host)`],
    never: ["Invalid URL", "connecting to"],
  })),
  {
    item: "10: bridge server list with no flags: it needs a provider that creates servers, not a --host",
    args: ["bridge", "server", "list"],
    exit: 2,
    stderr: ["bridge server list needs a provider that creates servers (--provider hetzner)", "dockernet bridge server list --provider hetzner"],
    never: ["give --host", "no host to bridge to"],
  },
  {
    item: "10: bridge server list --host: the same, at once",
    args: ["bridge", "server", "list", "--host", "ssh://dev@build-box"],
    exit: 2,
    stderr: ["needs a provider that creates servers", "the ssh provider connects to an existing host and has none"],
    never: ["unknown flag"],
  },
  {
    item: "17: --identity of a missing file: the reason, and no passphrase nobody can give",
    args: [...host, "ssh://dev@127.0.0.1:{closed}", "--identity", "{dir}/no-such-key"],
    exit: 2,
    stderr: ["cannot read the identity file {dir}/no-such-key: no such file", "leave --identity out to use the SSH agent"],
    never: ["passphrase", "connecting to"],
  },
  {
    item: "17: --identity that the user may not read (as nobody): permission denied",
    args: ["bridge", "start", "--socket", "{dir}/nobody/bridge.sock", "--host", "ssh://dev@127.0.0.1:{closed}", "--identity", "{dir}/id_ed25519"],
    nobody: true,
    exit: 2,
    stderr: ["cannot read the identity file {dir}/id_ed25519: permission denied", "readable by the user running dockernet (uid 65534)"],
  },
  {
    item: "17: an encrypted --identity: the hint says how (the agent), not a passphrase flag that does not exist",
    args: [...host, "ssh://dev@127.0.0.1:{closed}", "--identity", "{dir}/encrypted"],
    exit: 2,
    stderr: ["cannot use the SSH private key {dir}/encrypted", "ssh-add"],
    never: ["(or its passphrase)"],
  },
  {
    item: "16: a silent SSH server: 'connecting to host:port' first, then the timeout",
    args: [...host, "ssh://dev@127.0.0.1:{silent}", "--identity", "{dir}/client_key"],
    exit: 1,
    stderr: ["connecting to 127.0.0.1:{silent}", "no SSH answer from 127.0.0.1:{silent} within 20 s"],
  },
  {
    item: "4: start --detach with an unknown host key: the reason, the fingerprint and --accept-new-host-key on the terminal",
    args: [...host, "ssh://root@127.0.0.1:{sshd}", "--identity", "{dir}/client_key", "--detach"],
    exit: 1,
    stderr: ["connecting to 127.0.0.1:{sshd}", "the SSH host key of 127.0.0.1:{sshd} is not known", "{fingerprint}", "--accept-new-host-key", "the background process exited (code 1) before it was ready: its output is above, and in {dir}/bridge.sock.log"],
    never: ["running in the background"],
    // What the terminal showed stays in the log.
    file: { path: "{dir}/bridge.sock.log", holds: ["the SSH host key of 127.0.0.1:{sshd} is not known", "--accept-new-host-key"] },
  },
  {
    item: "3: bridge status lists the warnings with their container",
    args: ["bridge", "status", "--socket", "{control}"],
    exit: 0,
    stdout: ["warnings: 1", "  dns: UDP port 5353 not forwarded: SSH carries only TCP (since 2026-01-01T00:00:02.000Z)"],
  },
  {
    item: "3: bridge status --json: a warnings field, each with its container",
    args: ["bridge", "status", "--socket", "{control}", "--json"],
    exit: 0,
    json: { warnings: [{ container: "dns", message: "UDP port 5353 not forwarded: SSH carries only TCP", since: "2026-01-01T00:00:02.000Z" }] },
  },
  {
    item: "11: bridge start --help: every flag of the bridge",
    args: ["bridge", "start", "--help"],
    exit: 0,
    stdout: helpFlags.start,
    never: ["--docker-host"],
  },
  ...(["status", "stop"] as const).map((action) => ({
    item: `11: bridge ${action} --help: only --socket of the bridge's flags`,
    args: ["bridge", action, "--help"],
    exit: 0,
    stdout: ["--socket"],
    never: helpFlags.start.filter((flag) => flag !== "--socket").concat("--docker-host"),
  })),
  {
    item: "11: bridge server --help: the provider, none of the connection's flags",
    args: ["bridge", "server", "--help"],
    exit: 0,
    stdout: ["--provider", "list|destroy"],
    never: ["--identity", "--accept-new-host-key", "--idle-timeout", "--remote-socket", "--socket", "--docker-host"],
  },
  {
    item: "10: bridge server destroy NAME with the default provider: the same",
    args: ["bridge", "server", "destroy", "dockernet-bridge"],
    exit: 2,
    stderr: ["bridge server destroy needs a provider that creates servers"],
  },
  {
    // The usage line is rendered by src/cli/_help.ts (the "first-hour" change, issue 19 item 11).
    item: "11: nested usage lines name the program",
    args: ["bridge", "status", "--help"],
    exit: 0,
    stdout: ["USAGE dockernet bridge status"],
  },
];

/** What `{name}` stands for in a row. */
const scene: Record<string, string> = {};
let control: BridgeControl | undefined;
let sshd: ChildProcess | undefined;
let silent: Server | undefined;
const silentClients = new Set<Socket>();
let binary = "";

beforeAll(async () => {
  binary = await ensureBinary();
  const dir = await mkdtemp(join(tmpdir(), "dn-first-hour-bridge-"));
  scene.dir = dir;
  await exec("chmod", ["0755", dir]);
  // nobody's own home: a socket directory others can write would be refused before the identity is read.
  await mkdir(join(dir, "nobody"), { mode: 0o700 });
  await exec("chown", ["nobody:nogroup", join(dir, "nobody")]);
  await mkdir(join(dir, "home"), { mode: 0o700 });
  // id_ed25519: root's only (0600); client_key: the one the rows log in with; encrypted: has a passphrase.
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "id_ed25519")]);
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret-words", "-f", join(dir, "encrypted")]);
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  scene.fingerprint = (await exec("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "host_key.pub")])).stdout.split(" ")[1] as string;
  expect(scene.fingerprint).toStartWith("SHA256:");
  scene.closed = String(await freePort());

  // A server that accepts and never answers (no SSH banner): what a wrong port behind a firewall looks like.
  silent = createServer((socket) => {
    silentClients.add(socket);
    socket.on("close", () => silentClients.delete(socket));
  });
  await new Promise<void>((resolve) => silent?.listen(0, "127.0.0.1", resolve));
  scene.silent = String((silent.address() as { port: number }).port);

  // A real sshd on loopback, in the foreground, ours to stop.
  const port = await freePort();
  scene.sshd = String(port);
  await mkdir("/run/sshd", { recursive: true });
  const config = join(dir, "sshd_config");
  await writeFile(config, [`Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host_key")}`, "PidFile none", "UsePAM no", "PasswordAuthentication no", "StrictModes no", "LogLevel ERROR", ""].join("\n"));
  sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let sshdErrors = "";
  sshd.stderr?.on("data", (chunk) => (sshdErrors += chunk));
  await waitFor(`sshd on 127.0.0.1:${port} (its stderr: ${sshdErrors})`, async () => (await exec("ssh-keyscan", ["-p", String(port), "127.0.0.1"], { allowFail: true, timeoutMs: 5000 })).stdout.includes("ssh-ed25519"), 10_000, 100);

  control = await serveBridgeControl();
  scene.control = control.socket;
});

afterAll(async () => {
  sshd?.kill("SIGTERM");
  for (const socket of silentClients) socket.destroy();
  silent?.close();
  await control?.[Symbol.asyncDispose]();
  if (scene.dir) await rm(scene.dir, { recursive: true, force: true });
});

describe("the bridge's first hour, as a table (issue 19)", () => {
  for (const row of rows) {
    test(row.item, async () => {
      // A clean environment: a home of its own (no known_hosts, no keys, no config), no agent, no colours.
      const env = (row: Row) => ({ PATH: process.env.PATH, HOME: join(scene.dir as string, row.nobody ? "nobody" : "home") });
      await runFirstHourRow(row, { binary, scene, env, timeoutMs: 60_000, stderrInOrder: true });
    });
  }

  test("README: the bridge's flag table lists exactly the flags each subcommand's --help prints", async () => {
    const readme = await readFile(join(repoRoot, "README.md"), "utf8");
    const table = readme.split("\n").filter((line) => /^\| `bridge (start|status|stop|server list)`( \||,)/.test(line));
    expect(table).toHaveLength(4);
    const common = ["--config", "--log-level", "--log-format"];
    const flagsIn = (text: string) => [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].filter((flag) => !common.includes(flag)).sort();
    for (const line of table) {
      const [command = "", flags = ""] = line.split(/(?<!\\)\|/).slice(1, 3);
      const action = (/`bridge (\w+)/.exec(command)?.[1]) as string;
      const help = await exec(binary, ["bridge", action, "--help"], { env: { PATH: process.env.PATH, HOME: join(scene.dir as string, "home") } });
      const options = help.stdout.replace(/\x1b\[[0-9;]*m/g, "").split("\nOPTIONS\n")[1] ?? "";
      expect({ action, flags: flagsIn(flags) }).toEqual({ action, flags: flagsIn(options) });
    }
  });

});
