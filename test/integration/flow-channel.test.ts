/**
 * The container channel over real Unix sockets in a temporary directory (no Docker needed): the
 * manager's ChannelHub, and the reference agent both in this process and as a process of its own.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { lstat, mkdir, mkdtemp, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { DockernetError } from "../../src/core/errors.ts";
import type { LogFields, Logger } from "../../src/core/logger.ts";
import { runAgent } from "../../src/modes/flow/agent/agent.ts";
import { ChannelError, ChannelHub } from "../../src/modes/flow/manager/channel.ts";
import { FrameReader } from "../../src/modes/flow/protocol/frame-reader.ts";
import { encodeFrame, maxFrameBytes, type Frame } from "../../src/modes/flow/protocol/frames.ts";
import { gone, sleep } from "../support/_exec.ts";
import { repoRoot, waitFor } from "../support/dockernet.ts";

setDefaultTimeout(30_000);

const bun = join(repoRoot, "node_modules/.bin/bun");
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Entry {
  level: string;
  message: string;
  fields: LogFields;
}

/** A real Logger that keeps what it is told, so tests can read the logs. */
function recordingLogger(entries: Entry[] = []): Logger & { entries: Entry[] } {
  const at = (level: string) => (message: string, fields: LogFields = {}) => void entries.push({ level, message, fields });
  return { entries, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug"), trace: at("trace"), withTag: () => recordingLogger(entries) };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp("/tmp/dnflow-");
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A fake container ID (64 hex characters, as Docker's). */
function containerId(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A hub on a fresh socket dir, recording events and connection changes; closed after the test. */
async function useHub(options: { socketDir?: string; requestTimeoutMs?: number; onEvent?: (id: string, command: string, data: unknown) => void } = {}) {
  const socketDir = options.socketDir ?? join(await tempDir(), "flow");
  const log = recordingLogger();
  const events: { containerId: string; command: string; data: unknown }[] = [];
  const changes: [string, boolean][] = [];
  const hub = new ChannelHub({
    socketDir,
    log,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    onEvent: options.onEvent ?? ((id, command, data) => void events.push({ containerId: id, command, data })),
    onConnectionChange: (id, connected) => void changes.push([id, connected]),
  });
  cleanups.push(() => hub.closeAll());
  return { hub, socketDir, log, events, changes };
}

/** Opens a channel for a new container; `socket` is the path its agent uses (the `flow.sock` link). */
async function openContainer(hub: ChannelHub) {
  const id = containerId();
  const dirName = hub.newDirName();
  await hub.open(id, dirName);
  return { id, dirName, dir: hub.hostDir(dirName), socket: join(hub.hostDir(dirName), "flow.sock") };
}

/** The reference agent in this process. */
function agentInProcess(socketPath: string, options: { command?: string[]; backoff?: { initialMs: number; maxMs: number } } = {}) {
  const controller = new AbortController();
  const log = recordingLogger();
  const exit = runAgent({ socketPath, log, signal: controller.signal, ...options });
  cleanups.push(async () => {
    controller.abort();
    await exit;
  });
  return { exit, log, stop: () => controller.abort() };
}

/** The reference agent as its own process (bun + test/support/flow-agent-entry.ts). */
function agentProcess(socketPath: string, options: { command?: string[]; env?: Record<string, string> } = {}) {
  const args = [join(repoRoot, "test/support/flow-agent-entry.ts"), ...(options.command ?? [])];
  const child: ChildProcess = spawn(bun, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...options.env, DOCKERNET_FLOW_SOCKET: socketPath } });
  const logs: Record<string, unknown>[] = [];
  let rest = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) logs.push(line.startsWith("{") ? JSON.parse(line) : { msg: line });
  });
  const exit = new Promise<number>((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 0))));
  cleanups.push(async () => {
    child.kill("SIGKILL");
    await exit;
  });
  return { child, exit, logs };
}

/** CMD for `flow agent -- CMD`: answers by command, reversing a batch, printing events and plain lines. */
const relayScript = `
import { createInterface } from "node:readline";
const out = (value) => process.stdout.write((typeof value === "string" ? value : JSON.stringify(value)) + "\\n");
out({ command: "hello", data: { pid: process.pid } });
const batch = [];
createInterface({ input: process.stdin }).on("line", (line) => {
  const request = JSON.parse(line);
  const { id, command, data } = request;
  if (command === "echo") out({ id, data });
  else if (command === "batch") {
    batch.push(request);
    if (batch.length === data.n) for (const held of batch.splice(0).reverse()) out({ id: held.id, data: { i: held.data.i } });
  } else if (command === "fail") out({ id, error: "it went wrong" });
  else if (command === "emit") {
    out({ command: "progress", data: { pct: 50 } });
    out("a plain line");
    out({ note: "no command" });
    out({ id, data: "emitted" });
  } else if (command === "slow") setTimeout(() => out({ id, data: "late" }), data.ms);
  else if (command === "bigreply") out({ id, data: "x".repeat(${maxFrameBytes} - JSON.stringify({ id, data: "" }).length - 5) });
  else if (command === "flood") {
    out("z".repeat(${2 * maxFrameBytes}));
    out({ id, data: "after the flood" });
  } else if (command === "exit") process.exit(data.code);
});
`;

async function relayCommand(): Promise<string[]> {
  const file = join(await tempDir(), "relay.mjs");
  await writeFile(file, relayScript);
  return [bun, file];
}

/** A container speaking the protocol by hand. */
async function rawClient(path: string) {
  const socket: Socket = createConnection(path);
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  cleanups.push(() => socket.destroy());
  const frames: Frame[] = [];
  const reader = new FrameReader();
  socket.on("data", (chunk: Buffer) => reader.push(chunk).forEach((item) => item.kind === "frame" && frames.push(item.frame)));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, frames, closed, send: (frame: Frame | string) => socket.write(typeof frame === "string" ? frame : encodeFrame(frame)) };
}

async function rejection(promise: Promise<unknown>): Promise<ChannelError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ChannelError)) throw new Error(`expected a ChannelError, got ${String(error)}`);
  return error;
}

describe("flow channel: hub and reference agent", () => {
  test("ping and dump round trip with the agent in this process; the files are where and as the container needs them", async () => {
    const { hub, socketDir, changes } = await useHub();
    const container = await openContainer(hub);
    expect(hub.status(container.id)).toEqual({ socket_connected: false, last_communication: null });
    agentInProcess(container.socket);
    await waitFor("the agent to connect", () => hub.status(container.id).socket_connected);
    expect(changes).toEqual([[container.id, true]]);

    const pong = (await hub.request(container.id, "ping", {})) as { pong: boolean; time: string };
    expect(pong.pong).toBe(true);
    expect(Math.abs(Date.parse(pong.time) - Date.now())).toBeLessThan(5000);
    const dump = (await hub.request(container.id, "dump", null)) as Record<string, unknown>;
    expect(dump).toMatchObject({ pid: process.pid, cwd: process.cwd(), argv0: process.argv[0] });
    expect(dump.runtime).toStartWith("bun ");
    expect(dump.env_keys).toContain("PATH");
    expect(JSON.stringify(dump)).not.toContain(process.env.PATH as string);
    const last = hub.status(container.id).last_communication as string;
    expect(Date.now() - Date.parse(last)).toBeLessThan(5000);
    expect(hub.counts()).toEqual({ listeners: 1, connected: 1 });

    expect((await stat(socketDir)).mode & 0o777).toBe(0o700);
    expect((await stat(container.dir)).mode & 0o777).toBe(0o755);
    const shortId = container.id.slice(0, 12);
    const socketFile = await stat(join(container.dir, `${shortId}.sock`));
    expect(socketFile.isSocket()).toBe(true);
    expect(socketFile.mode & 0o777).toBe(0o666);
    expect(await readlink(container.socket)).toBe(`${shortId}.sock`);
  });

  test("the agent as its own process: ping, dump (env names, never values), and SIGTERM ends it with 0", async () => {
    const { hub } = await useHub();
    const container = await openContainer(hub);
    const agent = agentProcess(container.socket, { env: { FLOW_TEST_SECRET: "hunter2-do-not-show" } });
    await waitFor("the agent process to connect", () => hub.status(container.id).socket_connected);
    expect(await hub.request(container.id, "ping", null)).toMatchObject({ pong: true });
    const dump = (await hub.request(container.id, "dump", null)) as Record<string, unknown>;
    expect(dump.pid).toBe(agent.child.pid as number);
    expect(dump.env_keys).toContain("FLOW_TEST_SECRET");
    expect(JSON.stringify(dump)).not.toContain("hunter2");
    expect(dump.uptime_s).toBeGreaterThanOrEqual(0);
    agent.child.kill("SIGTERM");
    expect(await agent.exit).toBe(0);
    await waitFor("the hub to see it go", () => !hub.status(container.id).socket_connected);
  });

  test("50 concurrent requests answered in reverse order each get their own answer", async () => {
    const { hub } = await useHub();
    const container = await openContainer(hub);
    agentProcess(container.socket, { command: await relayCommand() });
    await waitFor("the agent to connect", () => hub.status(container.id).socket_connected);
    const n = 50;
    const answers = await Promise.all([
      ...Array.from({ length: n }, (_, i) => hub.request(container.id, "batch", { n, i })),
      hub.request(container.id, "ping", null),
    ]);
    expect(answers.slice(0, n)).toEqual(Array.from({ length: n }, (_, i) => ({ i })));
    expect(answers[n]).toMatchObject({ pong: true });
  });

  test("relay: stdout JSON lines and plain lines become events; a JSON line with a waiting id is the answer", async () => {
    const { hub, events } = await useHub();
    const container = await openContainer(hub);
    agentInProcess(container.socket, { command: await relayCommand() });
    await waitFor("the agent to connect", () => hub.status(container.id).socket_connected);
    // CMD's greeting was printed before the agent connected: it was kept and sent on connect.
    await waitFor("the queued greeting", () => events.find((event) => event.command === "hello"));
    expect(await hub.request(container.id, "echo", { text: "é😀" })).toEqual({ text: "é😀" });
    expect(await hub.request(container.id, "emit", null)).toBe("emitted");
    // The events were written before the answer, so they are here by the time it is.
    expect(events.filter((event) => event.command !== "hello")).toEqual([
      { containerId: container.id, command: "progress", data: { pct: 50 } },
      { containerId: container.id, command: "stdout", data: "a plain line" },
      { containerId: container.id, command: "message", data: { note: "no command" } },
    ]);
  });

  test("size limits: a request over 1 MiB is refused before sending; a CMD line over 1 MiB is dropped and the relay goes on", async () => {
    const { hub } = await useHub();
    const container = await openContainer(hub);
    const agent = agentInProcess(container.socket, { command: await relayCommand() });
    await waitFor("the agent to connect", () => hub.status(container.id).socket_connected);
    const tooBig = await hub.request(container.id, "echo", "x".repeat(maxFrameBytes)).catch((error: unknown) => error);
    expect(tooBig).not.toBeInstanceOf(ChannelError);
    expect((tooBig as Error).message).toContain(`over the limit of ${maxFrameBytes}`);
    expect(await hub.request(container.id, "flood", null)).toBe("after the flood");
    expect(agent.log.entries.find((entry) => entry.message === "dropped a line of the command's output")?.level).toBe("warn");
    expect(hub.status(container.id).socket_connected).toBe(true);
  });

  test("timeout: no answer in time is a timeout, and the late answer is ignored", async () => {
    const { hub, log } = await useHub({ requestTimeoutMs: 150 });
    const container = await openContainer(hub);
    agentInProcess(container.socket, { command: await relayCommand() });
    await waitFor("the agent to connect", () => hub.status(container.id).socket_connected);
    const started = Date.now();
    // The answer comes long after the timeout, so a loaded machine cannot blur the two.
    const error = await rejection(hub.request(container.id, "slow", { ms: 1500 }));
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain('did not answer "slow" within 150 ms');
    expect(Date.now() - started).toBeLessThan(1500);
    const shorter = await rejection(hub.request(container.id, "slow", { ms: 1500 }, 50));
    expect(shorter.message).toContain("within 50 ms");
    await waitFor("the late answers to arrive", () => log.entries.filter((entry) => entry.message.includes("late or unknown id")).length === 2);
    expect(await hub.request(container.id, "echo", 1)).toBe(1);
  });

  test("not_connected: an unknown container, a container without an agent, and one whose agent left", async () => {
    const { hub } = await useHub();
    expect((await rejection(hub.request(containerId(), "ping", null))).kind).toBe("not_connected");
    const container = await openContainer(hub);
    const error = await rejection(hub.request(container.id, "ping", null));
    expect(error.kind).toBe("not_connected");
    expect(error.message).toContain(container.id.slice(0, 12));
    const agent = agentInProcess(container.socket);
    await waitFor("the agent to connect", () => hub.status(container.id).socket_connected);
    agent.stop();
    expect(await agent.exit).toBe(0);
    await waitFor("the agent to be gone", () => !hub.status(container.id).socket_connected);
    expect((await rejection(hub.request(container.id, "ping", null))).kind).toBe("not_connected");
  });

  test("remote_error: an unknown command without CMD, an error CMD reports, a reply too large to frame", async () => {
    const { hub } = await useHub();
    const plain = await openContainer(hub);
    agentInProcess(plain.socket);
    const relayed = await openContainer(hub);
    agentInProcess(relayed.socket, { command: await relayCommand() });
    await waitFor("both agents", () => hub.counts().connected === 2);
    const unknown = await rejection(hub.request(plain.id, "frobnicate", {}));
    expect(unknown.kind).toBe("remote_error");
    expect(unknown.message).toBe('unknown command "frobnicate"');
    const failed = await rejection(hub.request(relayed.id, "fail", {}));
    expect(failed).toMatchObject({ kind: "remote_error", message: "it went wrong" });
    const big = await rejection(hub.request(relayed.id, "bigreply", {}));
    expect(big.kind).toBe("remote_error");
    expect(big.message).toContain(`over the limit of ${maxFrameBytes}`);
    expect(await hub.request(relayed.id, "echo", "still fine")).toBe("still fine");
  });

  test("when CMD exits, waiting requests get an error and the agent exits with CMD's code", async () => {
    const { hub } = await useHub();
    const container = await openContainer(hub);
    const agent = agentProcess(container.socket, { command: await relayCommand() });
    await waitFor("the agent to connect", () => hub.status(container.id).socket_connected);
    const waiting = rejection(hub.request(container.id, "slow", { ms: 60_000 }));
    const exiting = rejection(hub.request(container.id, "exit", { code: 3 }));
    for (const error of [await waiting, await exiting]) {
      expect(error.kind).toBe("remote_error");
      expect(error.message).toContain("the command exited (code 3) before answering");
    }
    expect(await agent.exit).toBe(3);
    expect(agent.logs.find((line) => line.msg === "the command exited; the agent exits with its code")).toMatchObject({ code: 3 });
  });

  test("a CMD that cannot start ends the agent with 127", async () => {
    const dir = await tempDir();
    const agent = agentInProcess(join(dir, "nothing.sock"), { command: [join(dir, "no-such-command")] });
    expect(await agent.exit).toBe(127);
  });

  test("stopping the agent stops CMD", async () => {
    const { hub, events } = await useHub();
    const container = await openContainer(hub);
    const agent = agentInProcess(container.socket, { command: await relayCommand() });
    const hello = await waitFor("CMD's greeting", () => events.find((event) => event.command === "hello"));
    const pid = (hello.data as { pid: number }).pid;
    expect(await gone(pid)).toBe(false);
    agent.stop();
    expect(await agent.exit).toBe(0);
    await waitFor("CMD to be gone", () => gone(pid));
  });

  test("events a container sends unasked reach onEvent; a throwing handler does not cost the connection", async () => {
    let calls = 0;
    const received: unknown[] = [];
    const { hub } = await useHub({
      onEvent: (id, command, data) => {
        received.push({ id, command, data });
        if (++calls === 1) throw new Error("handler bug");
      },
    });
    const container = await openContainer(hub);
    const client = await rawClient(container.socket);
    client.send({ type: "event", command: "first", data: 1 });
    client.send({ type: "event", command: "second", id: "with-an-id", data: { nested: ["ok"] } });
    await waitFor("two events", () => received.length === 2);
    expect(received).toEqual([
      { id: container.id, command: "first", data: 1 },
      { id: container.id, command: "second", data: { nested: ["ok"] } },
    ]);
    expect(hub.status(container.id).socket_connected).toBe(true);
  });

  test("a request from the container is answered with an error; so is a malformed frame with an id, and one without is dropped", async () => {
    const { hub } = await useHub();
    const container = await openContainer(hub);
    const client = await rawClient(container.socket);
    client.send({ id: "c1", type: "request", command: "list" });
    client.send('{"id":"c2","type":"bogus"}\n');
    client.send("this is not json\n");
    client.send('{"type":"request","command":"no id"}\n');
    client.send({ type: "event", command: "after" });
    await waitFor("two answers", () => client.frames.length === 2);
    expect(client.frames[0]).toEqual({ id: "c1", type: "response", error: "the manager takes no requests" });
    expect(client.frames[1]).toMatchObject({ id: "c2", type: "response" });
    expect(client.frames[1]?.error).toContain('type must be "request", "response" or "event"');
    await sleep(100);
    expect(client.frames).toHaveLength(2);
    expect(hub.status(container.id).socket_connected).toBe(true);
  });

  test("a malformed reply fails its request at once", async () => {
    const { hub } = await useHub();
    const container = await openContainer(hub);
    const client = await rawClient(container.socket);
    await waitFor("the connection", () => hub.status(container.id).socket_connected);
    const pending = hub.request(container.id, "ping", null);
    const request = await waitFor("the request", () => client.frames[0]);
    client.send(`${JSON.stringify({ id: request.id, type: "response", error: 42 })}\n`);
    const error = await rejection(pending);
    expect(error.kind).toBe("remote_error");
    expect(error.message).toContain("error must be a string");
  });

  test("socket_error: the connection lost while a request waits; a newer connection replaces the older", async () => {
    const { hub, changes } = await useHub();
    const container = await openContainer(hub);
    const first = await rawClient(container.socket);
    await waitFor("the first connection", () => hub.status(container.id).socket_connected);
    const lost = rejection(hub.request(container.id, "ping", null));
    await waitFor("the request to arrive", () => first.frames.length === 1);
    const second = await rawClient(container.socket);
    await first.closed;
    const error = await lost;
    expect(error.kind).toBe("socket_error");
    expect(error.message).toContain("a newer connection replaced it");

    const answered = hub.request(container.id, "ping", null);
    const request = await waitFor("the request on the newer connection", () => second.frames[0]);
    second.send({ id: request.id, type: "response", data: "from the second" });
    expect(await answered).toBe("from the second");

    const cut = rejection(hub.request(container.id, "ping", null));
    await waitFor("another request", () => second.frames.length === 2);
    second.socket.destroy();
    expect((await cut).kind).toBe("socket_error");
    await waitFor("the hub to notice", () => !hub.status(container.id).socket_connected);
    // Replacing is no change of state; only the first connect and the last loss are told.
    expect(changes).toEqual([
      [container.id, true],
      [container.id, false],
    ]);
  });

  test("a frame over 1 MiB drops the connection; one of exactly 1 MiB is fine", async () => {
    const { hub, events, log } = await useHub();
    const container = await openContainer(hub);
    const client = await rawClient(container.socket);
    const empty = encodeFrame({ type: "event", command: "big", data: "" }).length - 1;
    client.send({ type: "event", command: "big", data: "x".repeat(maxFrameBytes - empty) });
    await waitFor("the 1 MiB event", () => events.length === 1, 10_000);
    expect(hub.status(container.id).socket_connected).toBe(true);
    // No newline ever comes: the hub must not wait for one.
    client.send("y".repeat(maxFrameBytes + 1));
    await client.closed;
    await waitFor("the hub to drop it", () => !hub.status(container.id).socket_connected);
    expect(log.entries.find((entry) => entry.message.includes("frame too long"))?.level).toBe("warn");
  });

  test("an agent started before the listener exists connects once it appears, backing off meanwhile", async () => {
    const { hub } = await useHub();
    const id = containerId();
    const dirName = hub.newDirName();
    const agent = agentInProcess(join(hub.hostDir(dirName), "flow.sock"), { backoff: { initialMs: 20, maxMs: 80 } });
    await waitFor("a few failed attempts", () => agent.log.entries.filter((entry) => entry.message.startsWith("cannot reach")).length >= 5);
    await hub.open(id, dirName);
    await waitFor("the agent to connect", () => hub.status(id).socket_connected);
    const attempts = agent.log.entries.filter((entry) => entry.message.startsWith("cannot reach"));
    expect(attempts[0]?.level).toBe("info");
    expect(attempts.slice(1).every((entry) => entry.level === "debug")).toBe(true);
    expect(attempts.slice(0, 5).map((entry) => entry.fields.retry_ms)).toEqual([20, 40, 80, 80, 80]);
    expect(agent.log.entries.some((entry) => entry.level === "info" && entry.message === "connected to the flow manager")).toBe(true);
  });

  test("a CMD printing without pause from its first instruction, the manager away at first: the agent connects and relays every line in order, none read and dropped meanwhile", async () => {
    const { hub, events } = await useHub();
    const id = containerId();
    const dirName = hub.newDirName();
    // Before: the agent read such a CMD as fast as it printed, dropping what the queue could not
    // hold, and Bun's pipe reader never returned to the event loop, so the connection (once the
    // manager listened) was never seen to complete: nothing was ever relayed.
    agentProcess(join(hub.hostDir(dirName), "flow.sock"), { command: ["seq", "1", "100000000"], env: { FLOW_AGENT_LOG_LEVEL: "info" } });
    await sleep(1000);
    await hub.open(id, dirName);
    await waitFor("the agent to connect", () => hub.status(id).socket_connected, 10_000);
    await waitFor("10,000 lines relayed", () => events.length >= 10_000, 10_000);
    expect(events.slice(0, 10_000).map((event) => event.data)).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
  });

  test("the channel cut: the agent reconnects to the reopened listener, and to a restarted manager", async () => {
    const first = await useHub();
    const container = await openContainer(first.hub);
    const agent = agentProcess(container.socket);
    await waitFor("the agent to connect", () => first.hub.status(container.id).socket_connected);

    await first.hub.close(container.id);
    expect(first.hub.counts()).toEqual({ listeners: 0, connected: 0 });
    expect((await stat(container.dir)).isDirectory()).toBe(true);
    await first.hub.open(container.id, container.dirName);
    await waitFor("the agent to reconnect", () => first.hub.status(container.id).socket_connected);
    expect(await first.hub.request(container.id, "ping", null)).toMatchObject({ pong: true });

    // The manager restarts: a new hub on the same socket dir adopts the container's directory.
    await first.hub.closeAll();
    const second = await useHub({ socketDir: first.socketDir });
    await second.hub.open(container.id, container.dirName);
    await waitFor("the agent to reach the new manager", () => second.hub.status(container.id).socket_connected);
    expect(await second.hub.request(container.id, "ping", null)).toMatchObject({ pong: true });
    // The agent's log comes through its stderr pipe, which may trail its answer on the socket.
    await waitFor("the agent's second reconnect in its log", () => agent.logs.filter((line) => line.msg === "lost the flow manager; reconnecting").length >= 2);
    expect(agent.logs.filter((line) => line.msg === "lost the flow manager; reconnecting").length).toBe(2);
    expect(agent.child.exitCode).toBeNull();
  });

  test("open is idempotent, and a stale socket file left by a killed listener is replaced", async () => {
    const { hub } = await useHub();
    const container = await openContainer(hub);
    agentInProcess(container.socket);
    await waitFor("the agent to connect", () => hub.status(container.id).socket_connected);
    await hub.open(container.id, container.dirName);
    await sleep(50);
    expect(hub.status(container.id).socket_connected).toBe(true);
    expect(hub.counts()).toEqual({ listeners: 1, connected: 1 });

    const { hub: other } = await useHub();
    const id = containerId();
    const dirName = other.newDirName();
    const socketPath = join(other.hostDir(dirName), `${id.slice(0, 12)}.sock`);
    await mkdir(other.hostDir(dirName), { recursive: true });
    const squatter = spawn(bun, ["-e", `require("node:net").createServer().listen(${JSON.stringify(socketPath)}, () => console.log("ready"))`], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise((resolve) => squatter.stdout?.once("data", resolve));
    squatter.kill("SIGKILL");
    await new Promise((resolve) => squatter.once("close", resolve));
    expect((await lstat(socketPath)).isSocket()).toBe(true);
    await other.open(id, dirName);
    agentInProcess(join(other.hostDir(dirName), "flow.sock"));
    await waitFor("the agent on the replaced socket", () => other.status(id).socket_connected);
    expect(await other.request(id, "ping", null)).toMatchObject({ pong: true });
  });

  test("prepareDir makes the directory before the container exists; close with removeDir removes it, without it stays for the mount", async () => {
    const { hub, socketDir } = await useHub();
    const early = hub.newDirName();
    expect(await hub.prepareDir(early)).toBe(join(socketDir, early));
    expect((await stat(socketDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(socketDir, early))).mode & 0o777).toBe(0o755);
    await expect(hub.prepareDir("..")).rejects.toThrow("is not 16 hex characters");

    const kept = await openContainer(hub);
    const removed = await openContainer(hub);
    await hub.close(kept.id);
    await hub.close(removed.id, { removeDir: true });
    expect((await stat(kept.dir)).isDirectory()).toBe(true);
    expect(await lstat(kept.socket).catch(() => "absent")).toBe("absent");
    expect(await stat(removed.dir).catch(() => "absent")).toBe("absent");
  });

  test("sweep removes only stale directories named like ours", async () => {
    const { hub, socketDir } = await useHub();
    const open = await openContainer(hub);
    const keep = hub.newDirName();
    const stale = hub.newDirName();
    for (const name of [keep, stale, "notes", "ABCDEF0123456789", "0123456789abcde"]) await mkdir(join(socketDir, name));
    await writeFile(join(socketDir, stale, "leftover"), "x");
    await writeFile(join(socketDir, "fedcba9876543210"), "a file, not a directory");
    expect(await hub.sweep(new Set([keep]))).toEqual([stale]);
    for (const name of [open.dirName, keep, "notes", "ABCDEF0123456789", "0123456789abcde", "fedcba9876543210"]) expect(await lstat(join(socketDir, name))).toBeTruthy();
    expect(await stat(join(socketDir, stale)).catch(() => "absent")).toBe("absent");
    expect(await hub.sweep(new Set())).toEqual([keep]);
  });

  test("checkSocketDir: a dir too long for sun_path is refused with its path; one at the limit works for real", async () => {
    const base = await tempDir();
    // socketDir + "/" + 16 + "/" + 12 + ".sock" is the dir's length plus 35 bytes; the kernel takes 107.
    const atLimit = join(base, "d".repeat(107 - 35 - base.length - 1));
    expect(atLimit.length).toBe(72);
    const tooLong = `${atLimit}e`;
    ChannelHub.checkSocketDir(atLimit);
    let error: unknown;
    try {
      ChannelHub.checkSocketDir(tooLong);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DockernetError);
    expect(error).toMatchObject({ code: "FLOW_SOCKET_DIR", exitCode: 2 });
    expect((error as Error).message).toContain(tooLong);
    expect((error as Error).message).toContain("108 bytes, over the kernel's limit of 107");
    expect(() => new ChannelHub({ socketDir: tooLong, log: recordingLogger(), requestTimeoutMs: 1000, onEvent: () => {} })).toThrow(tooLong);

    const { hub } = await useHub({ socketDir: atLimit });
    const container = await openContainer(hub);
    expect(join(container.dir, `${container.id.slice(0, 12)}.sock`).length).toBe(107);
    agentInProcess(container.socket);
    await waitFor("the agent on a 107-byte socket path", () => hub.status(container.id).socket_connected);
  });

  test("open refuses names that could leave the socket dir, and a socket dir that is a link", async () => {
    const { hub, socketDir } = await useHub();
    await expect(hub.open(containerId(), "../../etc/passwd")).rejects.toThrow("is not 16 hex characters");
    await expect(hub.open("../x", hub.newDirName())).rejects.toThrow("is not a container ID");
    const target = await tempDir();
    await symlink(target, socketDir);
    await expect(hub.open(containerId(), hub.newDirName())).rejects.toMatchObject({ code: "FLOW_SOCKET_DIR" });
  });
});
