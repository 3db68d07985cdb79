/**
 * `dockernet bridge status` wall time against a running bridge's control socket (the real control
 * server, test/support/bridge-control.ts), beside `dockernet --version` measured alternately in the
 * same run: status should cost one Unix-socket call more than --version, not SSH and Docker
 * clients' loading. A second binary (an older build) is timed alternately too when given.
 * Usage: bun test/bench/bridge-status.ts [runs=40] [other-binary]
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { serveBridgeControl } from "../support/bridge-control.ts";
import { repoRoot } from "../support/dockernet.ts";
import { fmt, quantile, ratio, report } from "./_stats.ts";

const runs = Number(process.argv[2] ?? 40);
const other = process.argv[3];
const binary = join(repoRoot, "dist/dockernet");

/** Milliseconds `command args` took, start to exit (the control socket answers from this process meanwhile). */
function time(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`))));
  });
}

await using control = await serveBridgeControl();
const status = ["bridge", "status", "--socket", control.socket];
const samples: Record<string, number[]> = { version: [], status: [], otherVersion: [], otherStatus: [] };
for (let i = 0; i < runs; i++) {
  samples.version!.push(await time(binary, ["--version"]));
  samples.status!.push(await time(binary, status));
  if (other) {
    samples.otherVersion!.push(await time(other, ["--version"]));
    samples.otherStatus!.push(await time(other, status));
  }
}

const p50 = (name: string) => quantile(samples[name] ?? [], 0.5);
console.log(`\nbridge status startup, ${runs} runs each, alternating`);
report("dockernet --version p50", fmt(p50("version")));
report("dockernet bridge status p50", fmt(p50("status")));
report("ratio (status / --version)", ratio(p50("status"), p50("version")));
if (other) {
  report(`${other} --version p50`, fmt(p50("otherVersion")));
  report(`${other} bridge status p50`, fmt(p50("otherStatus")));
  report("bridge status: this build / the other", ratio(p50("status"), p50("otherStatus")));
  report("--version: this build / the other", ratio(p50("version"), p50("otherVersion")));
}
