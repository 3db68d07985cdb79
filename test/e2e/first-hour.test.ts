/**
 * Issue 19, "the first hour": each stumble a new user met, as a row of a table run against the
 * compiled binary the way that user runs it (as `nobody` where being root would hide the
 * problem), checking what is printed and the exit code. A regression is a failing row.
 * The rows that need a running engine or flow server are in first-hour-flow.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { repoRoot } from "../support/dockernet.ts";
import { runFirstHourRow, type FirstHourRow } from "../support/first-hour.ts";
import { freePort } from "../support/ports.ts";

setDefaultTimeout(60_000);

const binary = join(repoRoot, "dist/dockernet");
const bun = join(repoRoot, "node_modules/.bin/bun");
const badConfig = '[flow]\ntoken_flie = "/tmp/x"\n[metrics]\nlisten = "127.0.0.1:99999"\n';

const cases: FirstHourRow[] = [
  {
    item: "2: flow serve as non-root, default paths: refused at start, every path with its reason and flag, no 'stopped'",
    args: ["flow", "serve"],
    nobody: true,
    exit: 2,
    stderr: ["the socket directory /run/dockernet/flow: /run is not writable by uid 65534 (permission denied)", "the token file /etc/dockernet/flow.token: /etc is not writable by uid 65534", "--socket-dir", "--token-file"],
    never: ["stopped", "EACCES", "flow started"],
  },
  {
    item: "1: flow serve with an unwritable socket dir: refused at start, not at the first create_container",
    args: ["flow", "serve", "--socket-dir", "{dir}/root-only/flow", "--token-file", "{dir}/writable/flow.token"],
    nobody: true,
    exit: 2,
    stderr: ["flow cannot use the socket directory", "root-only is not writable by uid 65534 (permission denied)", "--socket-dir"],
    never: ["stopped", "flow started", "token file"],
  },
  {
    item: "1, 2: writable paths pass the checks; the engine is asked only then (and no 'stopped' before its error)",
    args: ["flow", "serve", "--socket-dir", "{dir}/writable/s", "--token-file", "{dir}/writable/flow.token", "--docker-host", "unix:///nonexistent/docker.sock"],
    nobody: true,
    exit: 1,
    stderr: ["cannot reach the Docker engine at unix:///nonexistent/docker.sock"],
    never: ["stopped", "flow cannot use"],
  },
  {
    item: "8: flow call without serve's token file says they share serve's settings",
    args: ["flow", "call", "list_containers"],
    nobody: true,
    exit: 2,
    stderr: ["no token file /etc/dockernet/flow.token", "the --token-file and --listen (or --url) that flow serve was started with"],
  },
  {
    item: "8: flow call to no server names the URL and the same settings",
    args: ["flow", "call", "list_containers", "--token-file", "{dir}/token", "--listen", "127.0.0.1:{port}"],
    exit: 1,
    stderr: ["cannot reach the flow server at http://127.0.0.1:{port}", "that flow serve was started with"],
  },
  {
    item: "9: flow watch with no server exits 1 with the reason",
    args: ["flow", "watch", "--token-file", "{dir}/token", "--url", "http://127.0.0.1:{port}"],
    exit: 1,
    stderr: ["cannot reach the flow server"],
  },
  {
    item: "11: the root help has an example per mode, flow and bridge included",
    args: ["--help"],
    exit: 0,
    stdout: ["dockernet warp ", "dockernet join ", "dockernet flow serve", "dockernet flow call", "dockernet bridge start", "dockernet run warp join", "run several modes"],
  },
  {
    item: "11: flow call --help: only the flags call reads, and the program name in the usage line",
    args: ["flow", "call", "--help"],
    exit: 0,
    stdout: ["USAGE dockernet flow call [OPTIONS] <REQUEST> [PAYLOAD]", "--token-file", "--url", "--listen", "Send one request"],
    never: ["--socket-dir", "--volume-root", "--code-root", "--docker-host"],
  },
  {
    item: "11: flow agent --help: none of the server's flags",
    args: ["flow", "agent", "--help"],
    exit: 0,
    stdout: ["USAGE dockernet flow agent", "--socket"],
    never: ["--listen", "--url", "--token-file", "--socket-dir", "--docker-host"],
  },
  {
    item: "11: flow serve --help: its own flags; --volume-root repeatable, as the README says",
    args: ["flow", "serve", "--help"],
    exit: 0,
    stdout: ["USAGE dockernet flow serve [OPTIONS]", "--socket-dir", "--volume-root", "repeat the flag or separate with commas", "--docker-host"],
    never: ["--url=", "comma-separated"],
  },
  {
    item: "11: join status --help: the flags status reads, not the daemon's --keep-going; join's list says 'status' once",
    args: ["join", "status", "--help"],
    exit: 0,
    stdout: ["USAGE dockernet join status [OPTIONS]", "--container-name", "--json"],
    never: ["--keep-going", "--once"],
  },
  {
    item: "11: join --help lists status by what it shows, not 'status: status: ...'",
    args: ["join", "--help"],
    exit: 0,
    stdout: ["status    show every network", "--keep-going"],
    never: ["status    status:"],
  },
  {
    item: "11: run --help: the flags of each mode's daemon, not flow call's --url",
    args: ["run", "--help"],
    exit: 0,
    stdout: ["USAGE dockernet run [OPTIONS] <MODES>", "--listen=<ADDR>", "--keep-going", "--host=<URL>"],
    never: ["--url=<URL>"],
  },
  {
    item: "12: dockernet help is the root help",
    args: ["help"],
    exit: 0,
    stdout: ["USAGE dockernet", "Examples:"],
  },
  {
    item: "12: dockernet help flow serve is that command's help",
    args: ["help", "flow", "serve"],
    exit: 0,
    stdout: ["USAGE dockernet flow serve"],
  },
  {
    item: "12: dockernet help with a word that names no command: a usage error naming it, not the root help",
    args: ["help", "flow", "serv"],
    exit: 2,
    stderr: ['dockernet flow has no command "serv"', "see dockernet flow --help"],
    never: ["USAGE dockernet"],
  },
  {
    item: "12: dockernet help run warp is run's help (warp is an argument of run, not a command)",
    args: ["help", "run", "warp"],
    exit: 0,
    stdout: ["USAGE dockernet run [OPTIONS] <MODES>"],
  },
  {
    item: "12: an unknown flag points to the help of the command it was given to",
    args: ["warp", "status", "--jsn"],
    exit: 2,
    stderr: ["unknown flag --jsn", "see dockernet warp status --help"],
    never: ["flags of this command"],
  },
  {
    item: "12: dockernet flow with no subcommand points to flow's own help",
    args: ["flow"],
    exit: 2,
    stderr: ["flow needs a subcommand: serve, call, watch, agent", "see dockernet flow --help"],
    never: ["No command specified", "see dockernet --help"],
  },
  {
    item: "12: dockernet bridge with no subcommand points to bridge's own help",
    args: ["bridge"],
    exit: 2,
    stderr: ["bridge needs a subcommand", "see dockernet bridge --help"],
    never: ["No command specified"],
  },
  {
    item: "12: flow call with no request points to flow call's help",
    args: ["flow", "call"],
    exit: 2,
    stderr: ["REQUEST", "see dockernet flow call --help"],
  },
  {
    item: "13: config validate: did you mean, only the section concerned, an out-of-range port named so",
    args: ["config", "validate", "--config", "{dir}/bad.toml"],
    exit: 2,
    stderr: ["flow.token_flie: unknown key, did you mean token_file?", 'metrics.listen: "127.0.0.1:99999": port 99999 is out of range (1-65535)', "[flow] listen, url, socket_dir"],
    never: ["[warp]", "is not HOST:PORT"],
  },
  {
    item: "a tcp:// engine that does not answer: the address and the hint, no Node deprecation warning from the Docker library",
    args: ["warp", "--once", "--docker-host", "tcp://127.0.0.1:{port}"],
    exit: 1,
    stderr: ["cannot reach the Docker engine at tcp://127.0.0.1:{port}", "is dockerd running?"],
    never: ["DeprecationWarning", "url.parse"],
  },
  {
    item: "a config file the user may not read: the path, who named it, 'permission denied' in words, and what to do",
    args: ["config", "validate", "--config", "{dir}/root-only.toml"],
    nobody: true,
    exit: 2,
    stderr: ["cannot read config file {dir}/root-only.toml (named by --config): permission denied", "readable by the user running dockernet (uid 65534)"],
    never: ["EACCES"],
  },
  {
    item: "service install into a directory the user may not write: the unit file, the reason in words, and sudo",
    args: ["service", "install", "warp", "--binary", "/bin/true", "--unit-dir", "{dir}/root-only"],
    nobody: true,
    exit: 1,
    stderr: ["cannot write {dir}/root-only/dockernet-warp.service: permission denied", "run it as root"],
    never: ["EACCES", "dockernet-new"],
  },
  {
    item: "13: config validate --json of an invalid config: the problems on stdout too",
    args: ["config", "validate", "--config", "{dir}/bad.toml", "--json"],
    exit: 2,
    json: true,
    stdout: ['"ok": false', "did you mean token_file?"],
  },
];

let dir = "";
let closedPort = 0;

beforeAll(async () => {
  if (!existsSync(binary)) await exec(bun, [join(repoRoot, "test/support/build-binary.ts")], { timeoutMs: 300_000 });
  // Readable by nobody; `root-only` is not writable by it, `writable` is.
  dir = await mkdtemp(join(tmpdir(), "dn-first-hour-"));
  await chmod(dir, 0o755);
  await exec("mkdir", ["-m", "0755", join(dir, "root-only")]);
  await exec("mkdir", ["-m", "0777", join(dir, "writable")]);
  await writeFile(join(dir, "bad.toml"), badConfig, { mode: 0o644 });
  await writeFile(join(dir, "root-only.toml"), "[log]\n", { mode: 0o600 });
  await writeFile(join(dir, "token"), "a-token-that-is-long-enough\n", { mode: 0o600 });
  closedPort = await freePort();
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the first hour, as a table (issue 19)", () => {
  for (const row of cases) {
    test(row.item, async () => {
      // A clean environment: no config of this machine leaks in, no terminal colours.
      const env = () => ({ PATH: process.env.PATH, HOME: "/tmp" });
      await runFirstHourRow(row, { binary, scene: { dir, port: String(closedPort) }, env, timeoutMs: 30_000 });
    });
  }
});

test("an unknown command is named without terminal colours when stderr is not a terminal", async () => {
  const result = await exec(binary, ["nosuch"], { env: { PATH: process.env.PATH, HOME: "/tmp" }, allowFail: true });
  expect({ exit: result.code, stderr: result.stderr }).toMatchObject({ exit: 2, stderr: expect.stringContaining("Unknown command nosuch code=USAGE") });
  expect(result.stderr).toContain("see dockernet --help");
});
