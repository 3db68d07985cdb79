/**
 * The agent's `-- CMD`: requests go to CMD's stdin as JSON lines, CMD's stdout lines come back
 * as responses (a JSON object with the id of a waiting request) or events (anything else).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { sleep } from "../../../core/backoff.ts";
import type { Logger } from "../../../core/logger.ts";
import { LineSplitter } from "../protocol/line-splitter.ts";
import { maxFrameBytes, type Frame } from "../protocol/frames.ts";

/** The first character of a JSON text (RFC 8259), after the blanks JSON.parse skips. */
const mayBeJson = /^[ \t\n\r]*[[{"\-0-9tfn]/;

export interface RelayOptions {
  /** CMD and its arguments, run without a shell. */
  command: string[];
  log: Logger;
  /** Writes a frame to the manager (or drops it while disconnected). */
  send(frame: Frame): void;
}

// The manager forgets a request at its timeout and never says so: cap what we remember for it.
const maxWaiting = 10_000;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** CMD, started once; `exited` resolves with its exit code (128 + signal number when killed). */
export class CommandRelay {
  readonly exited: Promise<number>;
  readonly #options: RelayOptions;
  readonly #child: ChildProcess;
  readonly #waiting = new Set<string>();
  #done = false;

  constructor(options: RelayOptions) {
    this.#options = options;
    const [file = "", ...args] = options.command;
    // stderr goes where the agent's goes: into the container's log.
    this.#child = spawn(file, args, { stdio: ["pipe", "pipe", "inherit"], shell: false });
    const lines = new LineSplitter(maxFrameBytes);
    this.#child.stdout?.on("data", (chunk: Buffer) => {
      for (const item of lines.push(chunk)) {
        if (item.kind === "line") this.#line(item.line);
        else options.log.warn("dropped a line of the command's output", { error: item.error });
      }
    });
    this.#child.stdout?.on("end", () => lines.end().forEach((item) => item.kind === "line" && this.#line(item.line)));
    this.#child.stdin?.on("error", (error) => options.log.debug("the command's stdin failed", { error }));
    this.exited = new Promise((resolve) => {
      // "close" comes after stdout has ended, so every answer CMD printed is relayed first.
      this.#child.on("close", (code, signal) => resolve(this.#finish(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0))));
      this.#child.on("error", (error) => {
        options.log.error("cannot run the command", { command: file, error });
        // A command that never started gets no "close" in every runtime; 127 is the shell's "not found".
        if (this.#child.pid === undefined) resolve(this.#finish(127));
      });
    });
  }

  /** Hands a request to CMD; its answer comes back through `send`. */
  forward(request: Frame & { id: string }): void {
    if (this.#done || !this.#child.stdin?.writable) {
      this.#options.send({ id: request.id, type: "response", error: "the command has exited" });
      return;
    }
    if (this.#waiting.size >= maxWaiting) {
      const oldest = this.#waiting.values().next().value as string;
      this.#waiting.delete(oldest);
    }
    this.#waiting.add(request.id);
    this.#child.stdin.write(`${JSON.stringify({ id: request.id, command: request.command, data: request.data })}\n`);
  }

  /**
   * Stops reading CMD's stdout while the manager's side is full: CMD then blocks on its own
   * writes, and neither this process nor the manager buffers a flood.
   */
  pause(): void {
    this.#child.stdout?.pause();
  }

  /** Reads CMD's stdout again. */
  resume(): void {
    this.#child.stdout?.resume();
  }

  /** Ends CMD: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.#done) return;
    this.#child.kill("SIGTERM");
    const exited = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!exited) this.#child.kill("SIGKILL");
  }

  #line(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    // Only a line that can be JSON is parsed: JSON text starts with one of these (after blanks),
    // and a throw per plain-text line cost a chatty command's relay 0.7 us a line, 40x the test.
    if (!mayBeJson.test(line)) {
      this.#options.send({ type: "event", command: "stdout", data: line });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.#options.send({ type: "event", command: "stdout", data: line });
      return;
    }
    const record = asRecord(value);
    const id = record?.id;
    if (record && typeof id === "string" && this.#waiting.delete(id)) {
      const error = record.error;
      if (error !== undefined && error !== null && error !== false) this.#options.send({ id, type: "response", error: typeof error === "string" ? error : JSON.stringify(error) });
      else this.#options.send({ id, type: "response", data: record.data });
      return;
    }
    // No waiting request by that id: the command is telling, not answering.
    this.#options.send({ type: "event", command: typeof record?.command === "string" && record.command !== "" ? record.command : "message", data: record?.data ?? value });
  }

  #finish(code: number): number {
    if (this.#done) return code;
    this.#done = true;
    for (const id of this.#waiting) this.#options.send({ id, type: "response", error: `the command exited (code ${code}) before answering` });
    this.#waiting.clear();
    return code;
  }
}
