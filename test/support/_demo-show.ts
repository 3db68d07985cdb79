/**
 * Helpers of `npm run demo` (test/support/demo.ts): run a command against the demo engine and print
 * it as a user would type it (`$ dockernet ...`, `$ docker ...`) followed by its real output.
 */
import { join } from "node:path";
import { exec, sleep, type ExecResult } from "./_exec.ts";
import { repoRoot } from "./dockernet.ts";
import type { TestEngine } from "./engine.ts";

const binary = join(repoRoot, "dist/dockernet");

/** Prints a section heading. */
export function step(title: string): void {
  console.log(`\n\x1b[1m== ${title}\x1b[0m`);
}

/** Prints a line of explanation, as a shell comment so it stands apart from real output. */
export function note(text: string): void {
  console.log(`# ${text}`);
}

/** Quotes one argument the way a shell user would type it (for display only: nothing runs in a shell). */
function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%^,+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function show(command: string, args: string[]): void {
  console.log(`$ ${[command, ...args].map(quote).join(" ")}`);
}

/** What a shown command must print and how it must exit, so the demo never tells an untruth quietly. */
export interface Expect {
  /** Must match the command's stdout + stderr. */
  shows?: RegExp;
  /** The command must fail (exit non-zero); by default it must succeed. */
  fails?: boolean;
}

/** Claims the demo's output did not back up; demo.ts exits 1 when there is any. */
export const unmet: string[] = [];

function print(command: string, args: string[], result: ExecResult, expect: Expect): ExecResult {
  show(command, args);
  process.stdout.write(result.stdout);
  process.stdout.write(result.stderr);
  if (result.code !== 0) console.log(`(exit ${result.code})`);
  const problems: string[] = [];
  if (expect.fails ? result.code === 0 : result.code !== 0) problems.push(expect.fails ? "expected it to fail" : "expected it to succeed");
  if (expect.shows && !expect.shows.test(result.stdout + result.stderr)) problems.push(`expected output matching ${expect.shows}`);
  for (const problem of problems) {
    const line = `${command} ${args.join(" ")}: ${problem}`;
    console.log(`!! ${line}`);
    unmet.push(line);
  }
  return result;
}

/** Runs dist/dockernet against the engine (only PATH and DOCKER_HOST in its environment) and prints it with its output. */
export async function dockernet(engine: TestEngine, args: string[], expect: Expect = {}): Promise<ExecResult> {
  const env = { PATH: process.env.PATH, DOCKER_HOST: engine.host };
  return print("dockernet", args, await exec(binary, args, { env, allowFail: true, timeoutMs: 60_000 }), expect);
}

/** Runs the docker CLI against the engine and prints it with its output. */
export async function docker(engine: TestEngine, args: string[], expect: Expect = {}): Promise<ExecResult> {
  return print("docker", args, await engine.docker(args, { allowFail: true }), expect);
}

/**
 * Runs a setup command (`docker network create`, `docker run -d`) and prints it without its output
 * (the new object's id); throws if it fails.
 */
export async function setup(engine: TestEngine, args: string[]): Promise<void> {
  show("docker", args);
  await engine.docker(args);
}

/** Waits (silently) until `docker exec name args...` succeeds, e.g. a server inside listens; up to 10 s. */
export async function waitUntil(engine: TestEngine, name: string, args: string[]): Promise<void> {
  for (const deadline = Date.now() + 10_000; ; await sleep(50)) {
    if ((await engine.docker(["exec", name, ...args], { allowFail: true })).code === 0) return;
    if (Date.now() > deadline) throw new Error(`demo: ${name} did not get ready (${args.join(" ")})`);
  }
}
