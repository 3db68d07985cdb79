/**
 * install.sh, run the way a user runs it: real curl (or wget) against release files served on
 * 127.0.0.1 by a node:http server in this process. The release files come from
 * test/support/release.sh (the compiled binary); a second, fake release of tiny shell scripts keeps
 * the cases that are not about the binary itself fast.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exec, which, type ExecResult } from "../support/_exec.ts";

setDefaultTimeout(120_000);

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const installer = join(repoRoot, "install.sh");
const dist = join(repoRoot, "dist");
/** The release file this machine's `uname -m` maps to. */
const hostArch = process.arch === "arm64" ? "arm64" : "x64";
const hostBinary = `dockernet-linux-${hostArch}`;

/** A folder served over HTTP on loopback, with the paths it was asked for. */
interface Served {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

function serve(dir: string): Promise<Served> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    const name = path.slice(1);
    const file = join(dir, name);
    if (req.method !== "GET" || !/^[\w.-]+$/.test(name) || !existsSync(file)) {
      res.writeHead(404).end("not found\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

const sha256 = async (file: string): Promise<string> => createHash("sha256").update(await readFile(file)).digest("hex");

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Runs test/support/release.sh unless dist/ already holds release files newer than src/. */
async function ensureRelease(): Promise<void> {
  const outputs = [join(dist, hostBinary), join(dist, "SHA256SUMS")];
  if (outputs.every((file) => existsSync(file))) {
    const sources = Math.max(await newestMtime(join(repoRoot, "src")), (await stat(join(repoRoot, "package.json"))).mtimeMs);
    const built = Math.min(...(await Promise.all(outputs.map(async (file) => (await stat(file)).mtimeMs))));
    if (built > sources) return;
  }
  await exec("bash", [join(repoRoot, "test/support/release.sh")], { timeoutMs: 600_000 });
}

/** Writes SHA256SUMS for the files in `dir`, the way release.sh does. */
async function writeSums(dir: string, names: string[]): Promise<void> {
  const lines = await Promise.all(names.map(async (name) => `${await sha256(join(dir, name))}  ${name}\n`));
  await writeFile(join(dir, "SHA256SUMS"), lines.join(""));
}

let root: string;
let version: string;
let real: Served; // the release built from src/
let fake: Served; // shell scripts standing in for the binaries: `--version` prints "fake <arch>"
let fakeDir: string;
let releaseDir: string;
const servers: Served[] = [];

beforeAll(async () => {
  version = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")).version;
  root = await mkdtemp(join(tmpdir(), "dockernet-install-test-"));
  await ensureRelease();

  releaseDir = join(root, "release");
  await mkdir(releaseDir);
  const sums = await readFile(join(dist, "SHA256SUMS"), "utf8");
  for (const line of sums.trim().split("\n")) {
    const name = line.split(/\s+/)[1] ?? "";
    await copyFile(join(dist, name), join(releaseDir, name));
  }
  await copyFile(join(dist, "SHA256SUMS"), join(releaseDir, "SHA256SUMS"));
  real = await serve(releaseDir);

  fakeDir = join(root, "fake-release");
  await mkdir(fakeDir);
  for (const arch of ["x64", "arm64"]) {
    await writeFile(join(fakeDir, `dockernet-linux-${arch}`), `#!/bin/sh\necho "fake ${arch}"\n`);
  }
  await writeSums(fakeDir, ["dockernet-linux-x64", "dockernet-linux-arm64"]);
  fake = await serve(fakeDir);
  servers.push(real, fake);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  if (root) await rm(root, { recursive: true, force: true });
});

/** Starts another loopback server for `dir`; closed after all tests. */
async function serveExtra(dir: string): Promise<Served> {
  const served = await serve(dir);
  servers.push(served);
  return served;
}

/** A fresh install target and TMPDIR for one installer run. */
interface Sandbox {
  dir: string;
  bin: string;
  tmp: string;
  home: string;
}

let sandboxes = 0;
async function sandbox(): Promise<Sandbox> {
  const dir = join(root, `run-${++sandboxes}`);
  const box = { dir, bin: join(dir, "bin"), tmp: join(dir, "tmp"), home: join(dir, "home") };
  await mkdir(box.tmp, { recursive: true });
  await mkdir(box.home);
  return box;
}

interface RunOptions {
  /** The release server; default the real one. `null` leaves DOCKERNET_DOWNLOAD_URL unset. */
  from?: Served | null;
  args?: string[];
  env?: Record<string, string>;
  /** The shell and its arguments before the script; default ["sh"]. */
  shell?: string[];
  /** Feed this to the shell's stdin instead of passing the script path (`curl ... | sh`). */
  stdin?: string;
}

async function runInstaller(box: Sandbox, options: RunOptions = {}): Promise<ExecResult> {
  const from = options.from === undefined ? real : options.from;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: box.home,
    TMPDIR: box.tmp,
    DOCKERNET_INSTALL_DIR: box.bin,
    ...(from ? { DOCKERNET_DOWNLOAD_URL: from.url } : {}),
    ...options.env,
  };
  const [shell = "sh", ...shellArgs] = options.shell ?? ["sh"];
  const args = options.stdin === undefined ? [...shellArgs, installer, ...(options.args ?? [])] : [...shellArgs, "-s", "--", ...(options.args ?? [])];
  // Resolved on this process's PATH: some runs give the installer a PATH without a shell on it.
  const shellPath = await which(shell);
  if (!shellPath) throw new Error(`${shell} is not installed`);
  return exec(shellPath, args, { env, input: options.stdin, allowFail: true, timeoutMs: 60_000 });
}

/** What a failed run must leave behind: no install folder, and its work folder removed. */
async function expectNothingInstalled(box: Sandbox): Promise<void> {
  expect(existsSync(box.bin)).toBe(false);
  expect(await readdir(box.tmp)).toEqual([]);
}

/** A folder of symlinks to just these commands, for runs with a PATH that lacks something. */
async function pathWith(box: Sandbox, commands: Record<string, string>): Promise<string> {
  const dir = join(box.dir, "path");
  await mkdir(dir);
  for (const [name, target] of Object.entries(commands)) await symlink(target, join(dir, name));
  return dir;
}

/** Full paths of commands the installer runs (curl/wget left to each test). */
async function coreCommands(): Promise<Record<string, string>> {
  const names = ["uname", "mktemp", "chmod", "install", "mkdir", "mv", "rm", "id", "cat", "sha256sum"];
  const found: Record<string, string> = {};
  for (const name of names) {
    const path = await which(name);
    if (!path) throw new Error(`${name} is not installed; the installer test needs it`);
    found[name] = path;
  }
  return found;
}

describe("install.sh", () => {
  test("installs the release binary for this machine, mode 0755, and says what to do next", async () => {
    const box = await sandbox();
    const seen = real.requests.length;
    const result = await runInstaller(box);
    expect(result.stderr).not.toContain("error");
    expect(result.code).toBe(0);

    const installed = join(box.bin, "dockernet");
    expect((await stat(installed)).mode & 0o777).toBe(0o755);
    expect(await sha256(installed)).toBe(await sha256(join(releaseDir, hostBinary)));
    const run = await exec(installed, ["--version"], { env: { PATH: process.env.PATH } });
    expect(run.stdout.trim()).toBe(version);

    expect(real.requests.slice(seen)).toEqual([`/${hostBinary}`, "/SHA256SUMS"]);
    expect(result.stderr).toContain(`installed dockernet ${version} to ${installed}`);
    // Not on PATH: it says how to add it, and touches no startup file.
    expect(result.stdout).toContain(`export PATH="${box.bin}:$PATH"`);
    expect(await readdir(box.home)).toEqual([]);
    expect(result.stdout).toContain(`${installed} --version`);
    expect(result.stdout).toContain(`${installed} warp --help`);
    expect(await readdir(box.bin)).toEqual(["dockernet"]);
    expect(await readdir(box.tmp)).toEqual([]);
  });

  test("replaces an existing dockernet in a folder on PATH, and then prints no PATH advice", async () => {
    const box = await sandbox();
    await mkdir(box.bin);
    await writeFile(join(box.bin, "dockernet"), "old\n", { mode: 0o600 });
    const result = await runInstaller(box, { from: fake, env: { PATH: `${box.bin}:${process.env.PATH}`, DOCKERNET_UNAME_M: "x86_64" } });
    expect(result.code).toBe(0);
    expect(await readFile(join(box.bin, "dockernet"), "utf8")).toContain("fake x64");
    expect((await stat(join(box.bin, "dockernet"))).mode & 0o777).toBe(0o755);
    expect(result.stdout).not.toContain("export PATH");
    expect(result.stdout).toContain("    dockernet --version\n");
    expect(result.stdout).toContain("    dockernet warp --help\n");
    expect(await readdir(box.bin)).toEqual(["dockernet"]);
  });

  test("refuses a download whose checksum does not match SHA256SUMS", async () => {
    const tampered = join(root, "tampered");
    await mkdir(tampered);
    await symlink(join(releaseDir, hostBinary), join(tampered, hostBinary));
    const sums = await readFile(join(releaseDir, "SHA256SUMS"), "utf8");
    const line = sums.split("\n").find((l) => l.endsWith(`  ${hostBinary}`)) ?? "";
    const flipped = (line[0] === "0" ? "1" : "0") + line.slice(1);
    await writeFile(join(tampered, "SHA256SUMS"), sums.replace(line, flipped));
    const from = await serveExtra(tampered);

    const box = await sandbox();
    const result = await runInstaller(box, { from });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`checksum mismatch for ${hostBinary}`);
    expect(result.stderr).toContain("refusing to install");
    expect(from.requests).toEqual([`/${hostBinary}`, "/SHA256SUMS"]);
    await expectNothingInstalled(box);
  });

  test("refuses when SHA256SUMS has no line for the file", async () => {
    const partial = join(root, "no-line");
    await mkdir(partial);
    await copyFile(join(fakeDir, "dockernet-linux-x64"), join(partial, "dockernet-linux-x64"));
    await writeFile(join(partial, "SHA256SUMS"), `${"a".repeat(64)}  dockernet-linux-arm64\n${"b".repeat(64)}  other-dockernet-linux-x64\n`);
    const box = await sandbox();
    const result = await runInstaller(box, { from: await serveExtra(partial), env: { DOCKERNET_UNAME_M: "x86_64" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no checksum line for dockernet-linux-x64");
    await expectNothingInstalled(box);
  });

  test("accepts `sha256sum -b` lines (`*name`) in SHA256SUMS", async () => {
    const starred = join(root, "starred");
    await mkdir(starred);
    await copyFile(join(fakeDir, "dockernet-linux-x64"), join(starred, "dockernet-linux-x64"));
    await writeFile(join(starred, "SHA256SUMS"), `${await sha256(join(starred, "dockernet-linux-x64"))} *dockernet-linux-x64`); // no final newline either
    const box = await sandbox();
    const result = await runInstaller(box, { from: await serveExtra(starred), env: { DOCKERNET_UNAME_M: "x86_64" } });
    expect(result.stderr).not.toContain("error");
    expect(result.code).toBe(0);
  });

  test("fails cleanly when a release file is missing", async () => {
    const empty = join(root, "empty-release");
    await mkdir(empty);
    const box = await sandbox();
    const result = await runInstaller(box, { from: await serveExtra(empty) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`could not download http://127.0.0.1:`);
    await expectNothingInstalled(box);
  });

  test.each([
    ["DOCKERNET_UNAME_S", "Darwin"],
    ["DOCKERNET_UNAME_M", "mips"],
  ])("fails on an unsupported platform (%s=%s) and names it", async (variable, value) => {
    const box = await sandbox();
    const seen = real.requests.length;
    const result = await runInstaller(box, { env: { [variable]: value } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`unsupported platform: `);
    expect(result.stderr).toContain(value);
    expect(real.requests.length).toBe(seen);
    await expectNothingInstalled(box);
  });

  test.each([
    ["x86_64", "x64"],
    ["amd64", "x64"],
    ["aarch64", "arm64"],
    ["arm64", "arm64"],
  ])("maps uname -m %s to dockernet-linux-%s", async (machine, arch) => {
    const box = await sandbox();
    const seen = fake.requests.length;
    const result = await runInstaller(box, { from: fake, env: { DOCKERNET_UNAME_S: "Linux", DOCKERNET_UNAME_M: machine } });
    expect(result.code).toBe(0);
    expect(fake.requests.slice(seen)).toEqual([`/dockernet-linux-${arch}`, "/SHA256SUMS"]);
    expect(result.stderr).toContain(`installed dockernet fake ${arch}`);
  });

  test("piped whole into sh, it installs (the control for the truncation test)", async () => {
    const box = await sandbox();
    const script = await readFile(installer, "utf8");
    const result = await runInstaller(box, { from: fake, stdin: script, env: { DOCKERNET_UNAME_M: "x86_64" } });
    expect(result.code).toBe(0);
    expect(existsSync(join(box.bin, "dockernet"))).toBe(true);
  });

  test("a truncated download piped into sh does nothing", async () => {
    const script = await readFile(installer, "utf8");
    const lastLine = script.trimEnd().lastIndexOf("\n") + 1;
    expect(script.slice(lastLine).trim()).toBe('main "$@"');
    const cuts = [Math.floor(script.length / 2), Math.floor(script.length / 4), Math.floor((script.length * 3) / 4), lastLine, lastLine + 2, lastLine + 6, script.length - 2];
    for (const cut of cuts) {
      const box = await sandbox();
      const seen = real.requests.length;
      const result = await runInstaller(box, { stdin: script.slice(0, cut) });
      expect({ cut, requests: real.requests.slice(seen) }).toEqual({ cut, requests: [] });
      expect({ cut, stdout: result.stdout }).toEqual({ cut, stdout: "" });
      await expectNothingInstalled(box);
    }
  });

  test.each([
    ["busybox sh (ash)", ["busybox", "sh"]],
    ["bash --posix", ["bash", "--posix"]],
  ])("runs under %s too", async (_name, shell) => {
    if (!(await which(shell[0] ?? ""))) throw new Error(`${shell[0]} is missing: test/support/setup.sh installs busybox-static`);
    const box = await sandbox();
    const result = await runInstaller(box, { from: fake, shell, env: { DOCKERNET_UNAME_M: "x86_64" } });
    expect(result.stderr).not.toContain("error");
    expect(result.code).toBe(0);
    expect((await stat(join(box.bin, "dockernet"))).mode & 0o777).toBe(0o755);
  });

  test("uses https only, at the GitHub release URLs, unless DOCKERNET_DOWNLOAD_URL says otherwise", async () => {
    // A stand-in curl that logs its arguments and "downloads" from the fake release folder.
    const box = await sandbox();
    const fakeBin = join(box.dir, "fake-curl");
    await mkdir(fakeBin);
    const log = join(box.dir, "curl.log");
    await writeFile(
      join(fakeBin, "curl"),
      [
        "#!/bin/sh",
        'printf "%s\\n" "$*" >>"$FAKE_CURL_LOG"',
        'out=""; url=""',
        'while [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift 2 ;; *) url=$1; shift ;; esac; done',
        'cp "$FAKE_RELEASE/${url##*/}" "$out"',
        "",
      ].join("\n"),
    );
    await chmod(join(fakeBin, "curl"), 0o755);
    const env = { PATH: `${fakeBin}:${process.env.PATH}`, FAKE_CURL_LOG: log, FAKE_RELEASE: fakeDir, DOCKERNET_UNAME_M: "x86_64" };

    expect((await runInstaller(box, { from: null, env })).code).toBe(0);
    expect((await runInstaller(box, { from: null, env, args: ["--version", "v9.8.7"] })).code).toBe(0);
    const lines = (await readFile(log, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toStartWith("--proto =https --tlsv1.2 -fsSL");
    expect(lines.map((line) => line.split(" ").at(-1))).toEqual([
      "https://github.com/dockernet/dockernet/releases/latest/download/dockernet-linux-x64",
      "https://github.com/dockernet/dockernet/releases/latest/download/SHA256SUMS",
      "https://github.com/dockernet/dockernet/releases/download/v9.8.7/dockernet-linux-x64",
      "https://github.com/dockernet/dockernet/releases/download/v9.8.7/SHA256SUMS",
    ]);

    // --version has no say once the base URL is overridden; a non-http(s) base is refused.
    const overridden = await runInstaller(box, { from: fake, args: ["--version", "v9.8.7"], env: { DOCKERNET_UNAME_M: "x86_64" } });
    expect(overridden.code).toBe(0);
    expect(overridden.stderr).toContain("--version v9.8.7 is ignored");
    const ftp = await runInstaller(await sandbox(), { from: null, env: { DOCKERNET_DOWNLOAD_URL: "ftp://127.0.0.1/x" } });
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain("DOCKERNET_DOWNLOAD_URL must start with https://");
  });

  test("falls back to wget when curl is missing, and warns about missing nsenter/ip", async () => {
    const wgets: [string, string][] = [];
    const busybox = await which("busybox");
    if (!busybox) throw new Error("busybox is missing: test/support/setup.sh installs busybox-static (its wget is the fallback tested here)");
    wgets.push(["busybox wget", busybox]);
    const gnuWget = await which("wget");
    if (gnuWget) wgets.push(["GNU wget", gnuWget]);

    for (const [name, wget] of wgets) {
      const box = await sandbox();
      const path = await pathWith(box, { ...(await coreCommands()), wget });
      const result = await runInstaller(box, { from: fake, env: { PATH: path, DOCKERNET_UNAME_M: "x86_64" } });
      expect({ name, code: result.code, stderr: result.stderr }).toMatchObject({ name, code: 0 });
      expect(await readFile(join(box.bin, "dockernet"), "utf8")).toContain("fake x64");
      // nsenter and ip are not on this PATH; the installer also looks in /usr/sbin and /sbin.
      for (const command of ["nsenter", "ip"]) {
        const inSbin = existsSync(`/usr/sbin/${command}`) || existsSync(`/sbin/${command}`);
        const warning = `warning: '${command}' not found: dockernet warp needs it`;
        if (inSbin) expect(result.stderr).not.toContain(warning);
        else expect(result.stderr).toContain(warning);
      }
    }
  });

  test("names what is missing when neither curl nor wget is there", async () => {
    const box = await sandbox();
    const path = await pathWith(box, await coreCommands());
    const result = await runInstaller(box, { env: { PATH: path } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("need 'curl' or 'wget'");
    await expectNothingInstalled(box);
  });

  test("--help prints usage; bad options fail with exit 2", async () => {
    const box = await sandbox();
    const help = await runInstaller(box, { args: ["--help"] });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: install.sh [--version TAG]");
    expect(help.stdout).toContain("DOCKERNET_INSTALL_DIR");
    for (const args of [["--bogus"], ["--version"], ["--version", "../x"], ["extra"]]) {
      const result = await runInstaller(box, { args });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain("error: ");
    }
    await expectNothingInstalled(box);
  });

  test("passes shellcheck as POSIX sh", async () => {
    if (!(await which("shellcheck"))) {
      throw new Error("shellcheck is missing: install it (apt-get install -y shellcheck; test/support/setup.sh should do this)");
    }
    const result = await exec("shellcheck", ["-s", "sh", installer], { allowFail: true });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
    const release = await exec("shellcheck", [join(repoRoot, "test/support/release.sh")], { allowFail: true });
    expect(release.stdout + release.stderr).toBe("");
  });
});
