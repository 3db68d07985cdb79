/**
 * The reference agent, `dockernet flow agent [-- CMD ARGS...]`, run inside a flow container: it
 * connects to the manager's socket (retrying with backoff for as long as it runs), answers `ping`
 * and `dump` itself, and hands every other request to CMD when there is one.
 */
import type { Socket } from "node:net";
import { hostname } from "node:os";
import { Backoff, sleep } from "../../../core/backoff.ts";
import { errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { CommandRelay } from "./_command-relay.ts";
import { connect, serve } from "./_session.ts";
import { encodeFrame, type Frame } from "../protocol/frames.ts";

export interface AgentOptions {
  /** The manager's socket as the container sees it (`DOCKERNET_FLOW_SOCKET`). */
  socketPath: string;
  /** CMD and its arguments (`-- CMD ARGS...`): other requests are relayed to it. */
  command?: string[];
  log: Logger;
  /** Ends the agent (and CMD). */
  signal: AbortSignal;
  /** Reconnect delays; default 100 ms doubling to 5 s. */
  backoff?: { initialMs: number; maxMs: number };
}

// Events CMD prints while the manager is away are kept, and sent on reconnect; from this many on,
// CMD's output is no longer read (CMD then waits on its own writes) until the manager is back.
const maxQueuedEvents = 100;
// A connection shorter than this does not reset the backoff, so two agents on one socket (each
// replacing the other's connection) settle at the slowest retry instead of a busy loop.
const stableMs = 1000;

function runtime(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun) return `bun ${versions.bun}`;
  if (versions.deno) return `deno ${versions.deno}`;
  return `node ${versions.node}`;
}

function dump(): unknown {
  // Names only: values (environment, CMD arguments) may hold secrets, and the answer is shown to API clients.
  const envKeys = Object.keys(process.env).sort();
  return { hostname: hostname(), pid: process.pid, uptime_s: Math.round(process.uptime()), argv0: process.argv[0] ?? "", cwd: process.cwd(), runtime: runtime(), env_keys: envKeys };
}

/** Runs until `signal` aborts, or CMD exits; resolves with the exit code (0, or CMD's own). */
export async function runAgent(options: AgentOptions): Promise<number> {
  const { log, socketPath } = options;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal.addEventListener("abort", onAbort, { once: true });
  if (options.signal.aborted) stop.abort();

  let current: Socket | undefined;
  const queued: string[] = [];
  // CMD's output is not read while the manager's side is full (until "drain") or while the
  // manager is away with the queue full (until connected). Never read and thrown away: a command
  // that prints without pause would otherwise keep this process busy reading it, and Bun's pipe
  // reader does not return to the event loop while there is more to read, so the connection to
  // the manager would never be seen to complete.
  let paused = false;
  const pause = (): void => {
    if (paused) return;
    paused = true;
    relay?.pause();
  };
  const resume = (): void => {
    if (!paused) return;
    paused = false;
    relay?.resume();
  };
  const send = (frame: Frame): void => {
    let line: string;
    try {
      line = encodeFrame(frame);
    } catch (error) {
      log.warn("a frame is too large to send", { command: frame.command, error });
      if (frame.type === "response" && frame.id !== undefined) send({ id: frame.id, type: "response", error: errorMessage(error) });
      return;
    }
    if (current && !current.destroyed) {
      // The manager reads each container at a bounded pace: wait for it rather than buffer.
      if (!current.write(line) && !paused) {
        pause();
        current.once("drain", resume);
      }
    } else if (frame.type === "event") {
      // What is left of the read that filled the queue is kept too: at most one read more.
      queued.push(line);
      if (queued.length >= maxQueuedEvents) pause();
    } else log.debug("not connected: dropped a frame", { type: frame.type, command: frame.command });
  };

  let exitCode = 0;
  const relay = options.command?.length ? new CommandRelay({ command: options.command, log, send }) : undefined;
  void relay?.exited.then((code) => {
    if (!options.signal.aborted) {
      exitCode = code;
      log.info("the command exited; the agent exits with its code", { command: options.command?.[0], code });
    }
    stop.abort();
  });

  const handle = (frame: Frame): void => {
    if (frame.type !== "request") {
      log.debug("ignored a frame that is not a request", { type: frame.type, command: frame.command });
      return;
    }
    const id = frame.id as string;
    if (frame.command === "ping") send({ id, type: "response", data: { pong: true, time: new Date().toISOString() } });
    else if (frame.command === "dump") send({ id, type: "response", data: dump() });
    else if (relay) relay.forward({ ...frame, id });
    else send({ id, type: "response", error: `unknown command ${JSON.stringify(frame.command)}` });
  };

  const backoff = new Backoff(options.backoff ?? { initialMs: 100, maxMs: 5000 });
  let failures = 0;
  while (!stop.signal.aborted) {
    let socket: Socket;
    try {
      socket = await connect(socketPath);
    } catch (error) {
      const delayMs = backoff.next();
      // The first failure of an outage is news; the retries after it are not.
      const fields = { socket: socketPath, error, retry_ms: delayMs };
      if (failures++ === 0) log.info("cannot reach the flow manager yet; retrying", fields);
      else log.debug("cannot reach the flow manager yet; retrying", fields);
      await sleep(delayMs, stop.signal);
      continue;
    }
    failures = 0;
    log.info("connected to the flow manager", { socket: socketPath });
    const since = Date.now();
    current = socket;
    let writable = true;
    for (const line of queued.splice(0)) writable = socket.write(line);
    if (writable) resume();
    else socket.once("drain", resume);
    await serve(socket, { log, handle, send, signal: stop.signal });
    current = undefined;
    // Nothing to wait for on a connection gone: CMD's events are queued meanwhile, up to the limit.
    socket.off("drain", resume);
    resume();
    if (stop.signal.aborted) break;
    if (Date.now() - since >= stableMs) backoff.reset();
    const delayMs = backoff.next();
    log.info("lost the flow manager; reconnecting", { retry_ms: delayMs });
    await sleep(delayMs, stop.signal);
  }
  options.signal.removeEventListener("abort", onAbort);
  await relay?.stop();
  return exitCode;
}
