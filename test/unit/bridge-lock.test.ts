// The bridge's instance lock (src/modes/bridge/local/lock.ts) on a real file system, with real
// processes: two starters racing for one socket path, stale locks of dead processes and of
// reused PIDs, and the files beside the lock that cleanup may and may not remove.
import { afterEach, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { takeLock } from "../../src/modes/bridge/local/lock.ts";
import { fakeLogger } from "../support/fake-logger.ts";


const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "dockernet-lock-test-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A process that is alive and is no bridge (what a reused PID points at). */
async function bystander(): Promise<number> {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  cleanups.push(() => child.kill("SIGKILL"));
  await new Promise((resolve) => child.once("spawn", resolve));
  return child.pid as number;
}

/** The PID of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

async function listen(path: string): Promise<Server> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(path, () => resolve()));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return server;
}

/** Sets the lock file's times `ageMs` into the past (a lock that was taken a while ago). */
async function age(path: string, ageMs: number): Promise<void> {
  const then = new Date(Date.now() - ageMs);
  await utimes(path, then, then);
}

/**
 * A separate process that takes and releases the lock when told (one JSON command per stdin
 * line): the race below needs two processes, since one process's PID is the same for both.
 */
class LockWorker {
  readonly #child: ChildProcess;
  readonly #answers: ((line: string) => void)[] = [];

  constructor() {
    const lockModule = new URL("../../src/modes/bridge/local/lock.ts", import.meta.url).pathname;
    const code = `
      import { takeLock } from ${JSON.stringify(lockModule)};
      import { createInterface } from "node:readline";
      const log = { error() {}, warn() {}, info() {}, debug() {}, trace() {}, withTag() { return log; } };
      let release;
      for await (const line of createInterface({ input: process.stdin })) {
        const command = JSON.parse(line);
        if (command.op === "take") {
          while (Date.now() < command.at) {} // both workers start at the same moment
          try {
            release = await takeLock(command.socket, log);
            console.log(JSON.stringify({ won: true }));
          } catch (error) {
            console.log(JSON.stringify({ won: false, code: error.code, message: error.message }));
          }
        } else {
          await release?.();
          release = undefined;
          console.log(JSON.stringify({ released: true }));
        }
      }`;
    this.#child = spawn(process.execPath, ["-e", code], { stdio: ["pipe", "pipe", "inherit"] });
    createInterface({ input: this.#child.stdout! }).on("line", (line) => this.#answers.shift()?.(line));
  }

  #ask(command: object): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#answers.push((line) => resolve(JSON.parse(line)));
      this.#child.stdin!.write(`${JSON.stringify(command)}\n`);
    });
  }

  take(socket: string, at: number): Promise<Record<string, unknown>> {
    return this.#ask({ op: "take", socket, at });
  }

  release(): Promise<Record<string, unknown>> {
    return this.#ask({ op: "release" });
  }

  close(): void {
    this.#child.stdin!.end();
    this.#child.kill("SIGKILL");
  }
}

describe("two starters at the same moment", () => {
  test("30 rounds: exactly one of two processes gets the lock each time; the other is told the winner's PID", async () => {
    const dir = await workDir();
    const workers = [new LockWorker(), new LockWorker()];
    cleanups.push(() => workers.forEach((worker) => worker.close()));
    // Loaded and warm before the first round.
    await Promise.all(workers.map((worker) => worker.release()));
    const winners: number[] = [];
    for (let round = 0; round < 30; round++) {
      const socket = join(dir, `round-${round}.sock`);
      const at = Date.now() + 50;
      const results = await Promise.all(workers.map((worker) => worker.take(socket, at)));
      winners.push(results.filter((result) => result.won).length);
      for (const result of results.filter((result) => !result.won)) {
        expect(result.code).toBe("BRIDGE_RUNNING");
      }
      await Promise.all(workers.map((worker, i) => (results[i]?.won ? worker.release() : undefined)));
      expect(existsSync(`${socket}.pid`)).toBe(false);
    }
    expect(winners).toEqual(Array(30).fill(1));
  }, 60_000);

  test("30 rounds over a dead process's lock: one removes it and wins, the other never removes the winner's lock", async () => {
    const dir = await workDir();
    const workers = [new LockWorker(), new LockWorker()];
    cleanups.push(() => workers.forEach((worker) => worker.close()));
    await Promise.all(workers.map((worker) => worker.release()));
    const dead = await deadPid();
    const winners: number[] = [];
    for (let round = 0; round < 30; round++) {
      const socket = join(dir, `stale-${round}.sock`);
      await writeFile(`${socket}.pid`, `${dead}\n`);
      const at = Date.now() + 50;
      const results = await Promise.all(workers.map((worker) => worker.take(socket, at)));
      winners.push(results.filter((result) => result.won).length);
      await Promise.all(workers.map((worker, i) => (results[i]?.won ? worker.release() : undefined)));
    }
    expect(winners).toEqual(Array(30).fill(1));
  }, 60_000);
});

describe("a lock that is there already", () => {
  test("a live bridge's lock is refused with its PID, and left as it is", async () => {
    const dir = await workDir();
    const socket = join(dir, "bridge.sock");
    const pid = await bystander();
    await writeFile(`${socket}.pid`, `${pid}\n`); // just written: a bridge that is starting
    await expect(takeLock(socket, fakeLogger())).rejects.toMatchObject({ code: "BRIDGE_RUNNING", message: `a bridge is already running on ${socket} (PID ${pid})` });
    expect(await readFile(`${socket}.pid`, "utf8")).toBe(`${pid}\n`);
  });

  test("an old lock whose process answers on the control socket is a running bridge", async () => {
    const dir = await workDir();
    const socket = join(dir, "bridge.sock");
    const pid = await bystander();
    await writeFile(`${socket}.pid`, `${pid}\n`);
    await age(`${socket}.pid`, 120_000);
    await listen(`${socket}.ctl`);
    await expect(takeLock(socket, fakeLogger())).rejects.toMatchObject({ code: "BRIDGE_RUNNING" });
  });

  test("a reused PID: the process is alive but is no bridge (old lock, no control socket), so the lock is stale", async () => {
    const dir = await workDir();
    const socket = join(dir, "bridge.sock");
    const pid = await bystander();
    await writeFile(`${socket}.pid`, `${pid}\n`);
    await age(`${socket}.pid`, 120_000);
    const log = fakeLogger();
    const release = await takeLock(socket, log);
    expect((await readFile(`${socket}.pid`, "utf8")).trim()).toBe(String(process.pid));
    expect(log.lines.find((line) => line.message === "removing a stale bridge lock")?.fields).toMatchObject({ pid });
    await release();
    expect(existsSync(`${socket}.pid`)).toBe(false);
  });

  test("a held lock stays fresh (its process touches it), so it never passes for a reused PID's", async () => {
    const dir = await workDir();
    const socket = join(dir, "bridge.sock");
    const release = await takeLock(socket, fakeLogger(), { heartbeatMs: 50 });
    cleanups.push(release);
    await age(`${socket}.pid`, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(Date.now() - (await stat(`${socket}.pid`)).mtimeMs).toBeLessThan(5000);
  });

  test("an empty lock is held by a starter that is writing it: refused after a short wait, not removed", async () => {
    const dir = await workDir();
    const socket = join(dir, "bridge.sock");
    await writeFile(`${socket}.pid`, "");
    const before = Date.now();
    await expect(takeLock(socket, fakeLogger())).rejects.toMatchObject({ code: "BRIDGE_LOCK_UNREADABLE" });
    expect(Date.now() - before).toBeGreaterThanOrEqual(500);
    expect(existsSync(`${socket}.pid`)).toBe(true);
  });

  test("an empty lock that gets its PID while we wait is the lock of that PID", async () => {
    const dir = await workDir();
    const socket = join(dir, "bridge.sock");
    const pid = await bystander();
    await writeFile(`${socket}.pid`, "");
    setTimeout(() => void writeFile(`${socket}.pid`, `${pid}\n`), 150);
    await expect(takeLock(socket, fakeLogger())).rejects.toMatchObject({ code: "BRIDGE_RUNNING", message: expect.stringContaining(`(PID ${pid})`) });
  });

  test("a dead process's lock is removed with the sockets it left, and nothing else", async () => {
    const dir = await workDir();
    const socket = join(dir, "bridge.sock");
    await writeFile(`${socket}.pid`, `${await deadPid()}\n`);
    // --socket names a file that is no socket (a typo, or a file the user keeps): never removed.
    await writeFile(socket, "precious");
    const ctl = await listen(`${socket}.ctl`);
    await new Promise((resolve) => ctl.close(resolve)); // closing removes it: leave a dead one instead
    const leave = `const net = require("node:net"); net.createServer().listen(${JSON.stringify(`${socket}.ctl`)}, () => process.kill(process.pid, "SIGKILL"));`;
    await new Promise((resolve) => spawn(process.execPath, ["-e", leave]).once("exit", resolve));
    expect((await stat(`${socket}.ctl`)).isSocket()).toBe(true);

    const release = await takeLock(socket, fakeLogger());
    cleanups.push(release);
    expect(await readFile(socket, "utf8")).toBe("precious");
    expect(existsSync(`${socket}.ctl`)).toBe(false);
    expect((await readFile(`${socket}.pid`, "utf8")).trim()).toBe(String(process.pid));
  });

  test("a second take in the same process is refused", async () => {
    const dir = await workDir();
    const socket = join(dir, "bridge.sock");
    const release = await takeLock(socket, fakeLogger());
    cleanups.push(release);
    await expect(takeLock(socket, fakeLogger())).rejects.toMatchObject({ code: "BRIDGE_RUNNING" });
  });
});
