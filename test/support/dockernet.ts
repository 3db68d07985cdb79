/**
 * Runs dockernet the way a user does, against a test engine: `dockernet(engine, ["warp", "--once"])`
 * for one-shot commands, `Daemon.start(engine, ["warp"])` for the long-running form with its JSON
 * logs collected. By default the TypeScript source runs under the current runtime (bun); set
 * DN_TEST_BIN to run a compiled binary instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { exec, sleep, type ExecResult } from "./_exec.ts";
import { waitFor } from "./wait.ts";
import type { TestEngine } from "./engine.ts";

export { waitFor } from "./wait.ts";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The command line that starts dockernet: a compiled binary, or `bun src/main.ts`. */
export function dockernetCommand(): [string, string[]] {
  const bin = process.env.DN_TEST_BIN;
  return bin ? [bin, []] : [process.execPath, [`${repoRoot}src/main.ts`]];
}

/** The environment of a dockernet process run against `engine`: no config of the host leaks in. */
export function dockernetEnv(engine: TestEngine, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: engine.host, ...extra };
  return env;
}

/** Runs one dockernet command to completion. */
export async function dockernet(engine: TestEngine, args: string[], options: { env?: Record<string, string> } = {}): Promise<ExecResult> {
  const [command, prefix] = dockernetCommand();
  return exec(command, [...prefix, ...args], { env: dockernetEnv(engine, options.env), allowFail: true, timeoutMs: 60_000 });
}

/** One JSON log line of a daemon started with `--log-format json`. */
export interface LogLine {
  time: string;
  level: string;
  tag: string;
  msg: string;
  [field: string]: unknown;
}

/** A dockernet daemon process with its logs. Stops it on dispose. */
export class Daemon implements AsyncDisposable {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly #child: ChildProcess;
  #exit: Promise<number>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    let partial = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) {
        this.stderr.push(part);
        try {
          this.lines.push(JSON.parse(part) as LogLine);
        } catch {
          // not a JSON log line (a crash message): kept in stderr
        }
      }
    });
    child.stdout?.resume();
    this.#exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  }

  /**
   * Starts `dockernet <args> --log-format json` and waits for the log line `ready` (default:
   * "warp started"). `command` runs another entry point (e.g. `bun` and a copy of src/main.ts).
   */
  static async start(engine: TestEngine, args: string[], options: { ready?: string; env?: Record<string, string>; command?: [string, string[]] } = {}): Promise<Daemon> {
    const [command, prefix] = options.command ?? dockernetCommand();
    const child = spawn(command, [...prefix, ...args, "--log-format", "json"], { env: dockernetEnv(engine, options.env), stdio: ["ignore", "pipe", "pipe"] });
    const daemon = new Daemon(child);
    const ready = options.ready ?? "warp started";
    const exited = daemon.#exit.then((code) => {
      throw new Error(`dockernet ${args.join(" ")} exited with ${code} before "${ready}":\n${daemon.stderr.join("\n")}`);
    });
    await Promise.race([waitFor(`dockernet to log "${ready}"`, () => daemon.lines.some((line) => line.msg === ready), 20_000), exited]);
    exited.catch(() => {});
    return daemon;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** The exit code once the process exits by itself, or undefined if it still runs after `timeoutMs`. */
  exited(timeoutMs = 10_000): Promise<number | undefined> {
    return Promise.race([this.#exit, sleep(timeoutMs).then(() => undefined)]);
  }

  /** Log lines matching a predicate. */
  find(predicate: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(predicate);
  }

  /** Sends a signal and resolves with the exit code and how long the exit took. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number; ms: number }> {
    const started = performance.now();
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    const code = await Promise.race([this.#exit, sleep(10_000).then(() => -1)]);
    if (code === -1) this.#child.kill("SIGKILL");
    return { code, ms: performance.now() - started };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
