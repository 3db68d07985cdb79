/**
 * `dockernet --version` wall time beside a compiled bun hello-world built in the same run, run
 * alternately so both see the same machine noise. Usage: bun test/bench/startup.ts [runs=40]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../support/dockernet.ts";
import { fmt, quantile, ratio, report } from "./_stats.ts";

const runs = Number(process.argv[2] ?? 40);
const dir = mkdtempSync(join(tmpdir(), "dockernet-bench-"));
const bun = join(repoRoot, "node_modules/.bin/bun");
const binary = join(repoRoot, "dist/dockernet");

writeFileSync(join(dir, "hello.ts"), 'console.log("hello");\n');
// Built as build-binary.ts builds dockernet: reading no bunfig.toml or .env at start.
const build = spawnSync(bun, ["build", "--compile", "--minify", "--no-compile-autoload-bunfig", "--no-compile-autoload-dotenv", join(dir, "hello.ts"), "--outfile", join(dir, "hello")], { stdio: "inherit" });
if (build.status !== 0) throw new Error("cannot build the hello-world baseline");

function time(command: string, args: string[]): number {
  const started = performance.now();
  const result = spawnSync(command, args, { stdio: "ignore" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status}`);
  return performance.now() - started;
}

const hello: number[] = [];
const ours: number[] = [];
for (let i = 0; i < runs; i++) {
  hello.push(time(join(dir, "hello"), []));
  ours.push(time(binary, ["--version"]));
}
rmSync(dir, { recursive: true, force: true });

console.log(`\nstartup, ${runs} runs each, alternating`);
report("bun hello-world (compiled) p50", fmt(quantile(hello, 0.5)));
report("dockernet --version p50", fmt(quantile(ours, 0.5)));
report("ratio (dockernet / hello-world)", `${ratio(quantile(ours, 0.5), quantile(hello, 0.5))}   (target: <= 2x)`);
