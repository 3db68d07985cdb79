/**
 * `docker run --rm IMAGE true` under dockernet's OCI runtime beside plain runc, on one throwaway
 * engine, alternating per run so both see the same machine noise: for a container that is not a
 * target (pass-through; aim: at most 1.2x) and for a target (routed before its start: its cost).
 * Usage: bun test/bench/warp-runtime.ts [runs=15] [rounds=2]
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../support/dockernet.ts";
import { TestEngine } from "../support/engine.ts";
import { fmt, quantile, ratio, report } from "./_stats.ts";

const runs = Number(process.argv[2] ?? 15);
const rounds = Number(process.argv[3] ?? 2);
const binary = join(repoRoot, "dist/dockernet");
if (!existsSync(binary)) throw new Error(`${binary} is missing: node_modules/.bin/bun test/support/build-binary.ts`);

await using engine = await TestEngine.start({ name: "dnbench-rt", subnet: 125 });
await engine.installRuntime(binary);
const net = await engine.network("vpn", { subnet: "10.125.1.0/24" });
await engine.run("warp-1", { network: net.name });

async function runOnce(runtime: string, labels: string[]): Promise<number> {
  const started = performance.now();
  await engine.docker(["run", "--rm", "--runtime", runtime, "--network", net.name, "--label", `dockernet.test=${engine.runId}`, ...labels, engine.image, "true"]);
  return performance.now() - started;
}

const cases = [
  { name: "non-target", labels: [] as string[], target: "at most 1.2x" },
  { name: "target", labels: ["--label", "network.warp.target=warp-1"], target: "its cost" },
];
for (let round = 1; round <= rounds; round++) {
  console.log(`\nround ${round}: docker run --rm IMAGE true, ${runs} runs each, alternating runc / dockernet`);
  for (const entry of cases) {
    const runc: number[] = [];
    const ours: number[] = [];
    await runOnce("runc", entry.labels); // warm-up: the first run of a case pays for caches
    for (let i = 0; i < runs; i++) {
      runc.push(await runOnce("runc", entry.labels));
      ours.push(await runOnce("dockernet", entry.labels));
    }
    report(`${entry.name}: runc p50 / p90`, `${fmt(quantile(runc, 0.5))} / ${fmt(quantile(runc, 0.9))}`);
    report(`${entry.name}: dockernet p50 / p90`, `${fmt(quantile(ours, 0.5))} / ${fmt(quantile(ours, 0.9))}`);
    report(`${entry.name}: ratio p50 (dockernet / runc)`, `${ratio(quantile(ours, 0.5), quantile(runc, 0.5))}   (${entry.target}; +${fmt(quantile(ours, 0.5) - quantile(runc, 0.5))})`);
  }
}
