/**
 * SshLink against a real OpenSSH sshd on a second "remote host" (its own namespace, engine and
 * veth): host keys, login, stream-local / dial-stdio / direct-tcpip channels with half-close, and
 * the ways the connection ends.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { DockernetError } from "../../src/core/errors.ts";
import { createLogger } from "../../src/core/logger.ts";
import { SshLink, type SshTarget } from "../../src/ssh/connection.ts";
import { sleep } from "../support/_exec.ts";
import { RemoteHost } from "../support/remote-host.ts";

setDefaultTimeout(60_000);

const log = createLogger("ssh-test");
let remote: RemoteHost;
let dir = "";
let known = "";
const links: SshLink[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  remote = await RemoteHost.start({ name: "dntest-remote1", subnet: 115 });
});

afterAll(async () => {
  await remote?.stop();
});

afterEach(async () => {
  for (const link of links.splice(0)) link.close();
  for (const server of servers.splice(0)) server.close();
  await remote.setLinkUp(true);
  if (!remote.allowStreamLocal) await remote.stopSshd();
  if (!(await remote.sshdPid())) await remote.startSshd({ allowStreamLocal: true });
  await remote.killSessions();
  await remote.engine.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = "";
});

/** A target for the remote host: root, the client key, and a fresh (empty) own known_hosts file. */
function target(overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    host: remote.address,
    port: 22,
    username: "root",
    privateKey: readFileSync(remote.identityFile),
    identityFile: remote.identityFile,
    knownHostsFiles: [],
    ownKnownHosts: known,
    acceptNewHostKey: false,
    ...overrides,
  };
}

/** A fresh work dir and own known_hosts path (not created) for each test. */
function freshDir(): void {
  dir = mkdtempSync(join(tmpdir(), "dockernet-sshlink-"));
  known = join(dir, "state", "known_hosts");
}

async function connect(overrides: Partial<SshTarget> = {}): Promise<SshLink> {
  const link = await SshLink.connect(target(overrides), log);
  links.push(link);
  return link;
}

/** Connects with the server's key already in the own known_hosts file. */
async function connectKnown(overrides: Partial<SshTarget> = {}): Promise<SshLink> {
  freshDir();
  writeFileSync(join(dir, "known_hosts"), remote.knownHostsLine);
  return connect({ ownKnownHosts: join(dir, "known_hosts"), ...overrides });
}

async function refusal(overrides: Partial<SshTarget>): Promise<DockernetError> {
  const error = await SshLink.connect(target(overrides), log).then(
    (link) => {
      links.push(link);
      throw new Error("connected, but should have been refused");
    },
    (error: unknown) => error as DockernetError,
  );
  return error;
}

/** Everything a stream yields until its end, as text. */
function collect(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    stream.once("end", () => resolve(text));
    stream.once("error", reject);
    stream.resume(); // after readUntil's pause(), a new "data" listener alone does not
  });
}

/** Reads from a stream until `done(text so far)` holds; leaves the stream paused after. */
function readUntil(stream: Duplex, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (done(text)) finish();
    };
    const onEnd = () => (done(text) ? finish() : reject(new Error(`stream ended after ${JSON.stringify(text)}`)));
    const finish = () => {
      stream.off("data", onData).off("end", onEnd).off("error", reject);
      stream.pause();
      resolve(text);
    };
    stream.on("data", onData).once("end", onEnd).once("error", reject);
    stream.resume();
  });
}

/** One complete HTTP/1.1 response with a Content-Length (what Docker sends for /_ping). */
const fullResponse = (text: string) => {
  const head = text.indexOf("\r\n\r\n");
  const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? NaN);
  return head >= 0 && text.length >= head + 4 + length;
};

async function ping(stream: Duplex): Promise<string> {
  stream.write("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
  return readUntil(stream, fullResponse);
}

/**
 * The peer of the half-close test: echoes until it gets EOF, then (a little later) writes "done"
 * and closes. A relay that closed both ways on the client's EOF would lose the "done".
 */
function echoThenDone(socket: Socket): void {
  socket.on("data", (chunk) => socket.write(chunk));
  socket.on("end", () => setTimeout(() => socket.end("done"), 200));
  socket.on("error", () => {});
}

function listen(server: Server, ...args: unknown[]): Promise<void> {
  servers.push(server);
  return new Promise((resolve) => (server.listen as (...a: unknown[]) => void)(...args, () => resolve()));
}

/** EOF sent after "hello" is echoed; the "done" that follows it must still arrive, then the end. */
async function expectHalfClose(stream: Duplex): Promise<void> {
  let closedEarly = false;
  stream.write("hello");
  expect(await readUntil(stream, (text) => text === "hello")).toBe("hello");
  stream.end();
  const rest = collect(stream);
  stream.once("close", () => (closedEarly = !stream.readableEnded));
  expect(await rest).toBe("done");
  expect(closedEarly).toBe(false);
}

describe("host keys", () => {
  test("a host key listed in a known_hosts file (OpenSSH's or dockernet's own) is accepted", async () => {
    freshDir();
    const openssh = join(dir, "openssh_known_hosts");
    writeFileSync(openssh, `# OpenSSH's file\n${remote.knownHostsLine}`);
    const viaOpenSsh = await connect({ knownHostsFiles: [openssh, join(dir, "missing")] });
    expect(viaOpenSsh.hostKeyFingerprint).toBe(await remote.hostKeyFingerprint());
    expect((await viaOpenSsh.run("echo hi")).stdout).toBe("hi\n");
    const viaOwn = await connectKnown();
    expect((await viaOwn.run("echo hi")).stdout).toBe("hi\n");
  });

  test("a host known by its ECDSA key only is asked for that key (not its preferred ed25519 one)", async () => {
    freshDir();
    writeFileSync(join(dir, "known_hosts"), remote.ecdsaKnownHostsLine);
    const link = await connect({ ownKnownHosts: join(dir, "known_hosts") });
    expect(link.hostKeyFingerprint).toBe(await remote.hostKeyFingerprint("ecdsa"));
  });

  test("an unknown host key is refused, naming host:port and its SHA256 fingerprint; nothing is recorded", async () => {
    freshDir();
    const error = await refusal({});
    expect(error.code).toBe("SSH_HOST_KEY_UNKNOWN");
    expect(error.message).toContain(`${remote.address}:22`);
    expect(error.message).toContain(await remote.hostKeyFingerprint());
    expect(error.hint).toContain("--accept-new-host-key");
    expect(error.hint).toContain("ssh-keyscan");
    expect(() => statSync(known)).toThrow();
  });

  test("accept-new records the key (file 0600, directory 0700) and the next connect passes without it", async () => {
    freshDir();
    const first = await connect({ acceptNewHostKey: true });
    expect((await first.run("true")).code).toBe(0);
    expect(readFileSync(known, "utf8")).toBe(remote.knownHostsLine);
    expect(statSync(known).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "state")).mode & 0o777).toBe(0o700);
    const second = await connect({ acceptNewHostKey: false });
    expect((await second.run("true")).code).toBe(0);
    expect(readFileSync(known, "utf8")).toBe(remote.knownHostsLine); // not recorded twice
  });

  test("a changed host key is refused even with accept-new, with the new fingerprint; the old line stays", async () => {
    freshDir();
    const file = join(dir, "known_hosts");
    const oldLine = remote.knownHostsLine;
    writeFileSync(file, oldLine);
    await remote.rotateHostKey();
    const error = await refusal({ ownKnownHosts: file, acceptNewHostKey: true });
    expect(error.code).toBe("SSH_HOST_KEY_CHANGED");
    expect(error.message).toContain(`${remote.address}:22`);
    expect(error.message).toContain(await remote.hostKeyFingerprint());
    expect(error.hint).toContain("ssh-keygen -R");
    expect(error.hint).toContain(file);
    expect(readFileSync(file, "utf8")).toBe(oldLine);
  });
});

describe("login", () => {
  test("a key the server does not accept: SSH_AUTH naming the user and the key tried", async () => {
    freshDir();
    writeFileSync(join(dir, "known_hosts"), remote.knownHostsLine);
    const error = await refusal({ ownKnownHosts: join(dir, "known_hosts"), privateKey: readFileSync(remote.strangerIdentityFile), identityFile: remote.strangerIdentityFile });
    expect(error.code).toBe("SSH_AUTH");
    expect(error.message).toContain("as root");
    expect(error.message).toContain(remote.strangerIdentityFile);
    expect(error.message).toMatch(/ssh-ed25519 SHA256:/);
  });

  test("without a private key, the SSH agent's keys are used", async () => {
    const link = await connectKnown({ privateKey: undefined, identityFile: undefined, agent: await remote.agent() });
    expect((await link.run("id -un")).stdout.trim()).toBe("root");
  });

  test("nothing answering: SSH_UNREACHABLE (refused port; a TCP peer that never speaks SSH)", async () => {
    freshDir();
    const refused = await refusal({ port: 2222 });
    expect(refused.code).toBe("SSH_UNREACHABLE");
    expect(refused.message).toContain("ECONNREFUSED");
    const silent = createServer(() => {});
    await listen(silent, 0, "127.0.0.1");
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    const timedOut = await refusal({ host: "127.0.0.1", port, readyTimeoutMs: 700 });
    expect(timedOut.code).toBe("SSH_UNREACHABLE");
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("channels", () => {
  test("openUnixSocket: GET /_ping over HTTP/1.1 to the remote engine's socket, twice on one keep-alive channel", async () => {
    const link = await connectKnown();
    const docker = await link.openUnixSocket(remote.engine.socketPath);
    for (let i = 0; i < 2; i++) {
      const response = await ping(docker);
      expect(response).toStartWith("HTTP/1.1 200 OK\r\n");
      expect(response).toEndWith("\r\n\r\nOK");
    }
    docker.end();
    expect(await collect(docker)).toBe(""); // the engine closes its side after ours
  });

  test("one connection carries many channels at once: 50 stream-local and 20 dial-stdio pings", async () => {
    const link = await connectKnown();
    const pingOnce = async (open: Promise<Duplex>) => {
      const docker = await open;
      const response = await ping(docker);
      docker.destroy();
      return response.endsWith("\r\n\r\nOK");
    };
    const socket = remote.engine.socketPath;
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => pingOnce(link.openUnixSocket(socket))),
      ...Array.from({ length: 20 }, () => pingOnce(link.dialStdio(socket))),
    ]);
    expect(results.filter(Boolean).length).toBe(70);
  });

  test("half-close is preserved: after end() the other direction keeps flowing (stream-local, dial-stdio, direct-tcpip)", async () => {
    const link = await connectKnown();
    const unixServer = createServer({ allowHalfOpen: true }, echoThenDone);
    const socketPath = join(dir, "echo.sock");
    await listen(unixServer, socketPath);
    await expectHalfClose(await link.openUnixSocket(socketPath));
    // dial-stdio relays any Unix socket, not only Docker's.
    await expectHalfClose(await link.dialStdio(socketPath));
    const tcpServer = createServer({ allowHalfOpen: true }, echoThenDone);
    await listen(tcpServer, 0, remote.hostAddress);
    await expectHalfClose(await link.forwardTcp(remote.hostAddress, (tcpServer.address() as { port: number }).port));
  });

  test("stream-local refused by the server: SSH_STREAMLOCAL_REFUSED, and dialStdio reaches the engine instead", async () => {
    await remote.stopSshd();
    await remote.startSshd({ allowStreamLocal: false });
    const link = await connectKnown();
    const refused = await link.openUnixSocket(remote.engine.socketPath).catch((error: DockernetError) => error);
    expect((refused as DockernetError).code).toBe("SSH_STREAMLOCAL_REFUSED");
    const docker = await link.dialStdio(remote.engine.socketPath);
    expect(await ping(docker)).toEndWith("\r\n\r\nOK");
    docker.end();
    expect(await collect(docker)).toBe("");
    // Nothing at the path: told apart from a refusal.
    const missing = await link.openUnixSocket("/run/nothing-here.sock").catch((error: DockernetError) => error);
    expect((missing as DockernetError).code).toBe("SSH_REMOTE_SOCKET_MISSING");
  });

  test("dialStdio: a path the remote shell would parse is refused; a failed dial destroys the stream with the server's stderr", async () => {
    const link = await connectKnown();
    const bad = await link.dialStdio("/tmp/x; rm -rf /").catch((error: DockernetError) => error);
    expect((bad as DockernetError).code).toBe("SSH_BAD_SOCKET_PATH");
    const stream = await link.dialStdio("/run/nothing-here.sock");
    const failed = await collect(stream).catch((error: DockernetError) => error);
    expect((failed as DockernetError).code).toBe("SSH_DIAL_STDIO_FAILED");
    expect((failed as DockernetError).message).toContain("nothing-here.sock");
  });

  test("forwardTcp reaches a port published by a container on the remote engine; a closed port is SSH_CHANNEL_FAILED", async () => {
    await remote.engine.run("web", { publish: ["8080:80"], cmd: ["sh", "-c", "mkdir /www && echo hello-remote > /www/index.html && exec httpd -f -p 80 -h /www"] });
    const link = await connectKnown();
    let body = "";
    for (const deadline = Date.now() + 10_000; !body.includes("hello-remote") && Date.now() < deadline; await sleep(100)) {
      const web = await link.forwardTcp("127.0.0.1", 8080);
      web.on("error", () => {});
      web.end("GET / HTTP/1.0\r\n\r\n");
      body = await collect(web).catch(() => "");
    }
    expect(body).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
    expect(body).toContain("hello-remote");
    const closed = await link.forwardTcp("127.0.0.1", 8081).catch((error: DockernetError) => error);
    expect((closed as DockernetError).code).toBe("SSH_CHANNEL_FAILED");
  });
});

describe("the end of a connection", () => {
  test("a command that never ends, or never stops writing, is cut off (SSH_TIMEOUT, SSH_OUTPUT_CAP); the link keeps working", async () => {
    const link = await connectKnown();
    const started = performance.now();
    const hung = await link.run("sleep 600", { timeoutMs: 500 }).catch((error: DockernetError) => error);
    expect((hung as DockernetError).code).toBe("SSH_TIMEOUT");
    expect((hung as DockernetError).message).toContain("did not end within 0.5 s");
    expect(performance.now() - started).toBeLessThan(3000);
    const flood = await link.run("yes", { maxBytes: 100_000 }).catch((error: DockernetError) => error);
    expect((flood as DockernetError).code).toBe("SSH_OUTPUT_CAP");
    expect(await link.run("echo still here")).toEqual({ stdout: "still here\n", stderr: "", code: 0 });
    // The channels cut off are gone on the server too (sshd's MaxSessions would fill up otherwise).
    const results = await Promise.all(Array.from({ length: 12 }, () => link.run("sleep 600", { timeoutMs: 300 }).catch((error: DockernetError) => error.code)));
    expect(new Set(results)).toEqual(new Set(["SSH_TIMEOUT"]));
    expect((await link.run("true")).code).toBe(0);
  });

  test("sshd's session killed: closed resolves, open streams fail with SSH_CLOSED, new channels are refused", async () => {
    const link = await connectKnown();
    const docker = await link.openUnixSocket(remote.engine.socketPath);
    const failure = new Promise<DockernetError>((resolve) => docker.once("error", resolve));
    expect(await remote.killSessions()).toBeGreaterThan(0);
    const { reason } = await link.closed;
    expect(reason).not.toBe("");
    expect((await failure).code).toBe("SSH_CLOSED");
    const late = await link.openUnixSocket(remote.engine.socketPath).catch((error: DockernetError) => error);
    expect((late as DockernetError).code).toBe("SSH_CLOSED");
  });

  test("keep-alives: a healthy idle link stays up; a silent peer is detected within 3 intervals", async () => {
    const interval = 400;
    const link = await connectKnown({ keepaliveIntervalMs: interval });
    await sleep(interval * 4);
    expect((await link.run("true")).code).toBe(0);
    await remote.setLinkUp(false); // packets to the server now vanish: no FIN, no RST
    const cut = Date.now();
    const { reason } = await link.closed;
    const elapsed = Date.now() - cut;
    expect(reason).toMatch(/keepalive/i);
    expect(elapsed).toBeGreaterThanOrEqual(interval);
    expect(elapsed).toBeLessThanOrEqual(interval * 3 + 300);
  });

  test("close(): closed resolves with the reason; a stream still open fails with SSH_CLOSED", async () => {
    const link = await connectKnown();
    const docker = await link.openUnixSocket(remote.engine.socketPath);
    const failure = new Promise<DockernetError>((resolve) => docker.once("error", resolve));
    link.close();
    expect(await link.closed).toEqual({ reason: "closed by dockernet" });
    expect((await failure).code).toBe("SSH_CLOSED");
  });
});
