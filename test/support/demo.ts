/**
 * `npm run demo`: the main job on a throwaway engine. Starts a private dockerd in its own network
 * namespace, a warp (gateway) container and a target that names it, then runs the compiled
 * binary as a user would and shows the target's real routes before, after, and when the gateway
 * stops. Nothing of the host's Docker is touched; everything is removed at the end.
 */
import { join } from "node:path";
import { exec } from "./_exec.ts";
import { repoRoot } from "./dockernet.ts";
import { TestEngine } from "./engine.ts";
import { nextHop } from "./routing.ts";

const binary = join(repoRoot, "dist/dockernet");

function step(title: string): void {
  console.log(`\n\x1b[1m== ${title}\x1b[0m`);
}

async function dockernet(engine: TestEngine, args: string[]): Promise<void> {
  console.log(`$ dockernet ${args.join(" ")}`);
  const result = await exec(binary, args, { env: { PATH: process.env.PATH, DOCKER_HOST: engine.host }, allowFail: true });
  process.stdout.write(result.stdout);
  process.stdout.write(result.stderr);
}

const engine = await TestEngine.start({ name: "dndemo", subnet: 98 });
try {
  step("a throwaway Docker engine, a gateway and a target");
  const net = await engine.network("vpn", { subnet: "10.99.0.0/24" });
  const warp = await engine.run("warp-1", { network: net.name });
  const app = await engine.run("app", { network: net.name, labels: { "network.warp.target": "warp-1" } });
  console.log(`engine ${engine.host}`);
  console.log(`warp-1 is ${await warp.ip(net.name)} on ${net.name}; app carries the label network.warp.target=warp-1`);
  console.log(`app reaches 1.1.1.1 via ${await nextHop(app, "1.1.1.1")} (Docker's gateway)`);

  step("what would change");
  await dockernet(engine, ["warp", "--once", "--dry-run"]);

  step("one reconcile");
  await dockernet(engine, ["warp", "--once"]);
  await dockernet(engine, ["warp", "status"]);
  console.log(`app reaches 1.1.1.1 via ${await nextHop(app, "1.1.1.1")} (warp-1)`);

  step("the gateway stops: Docker's route comes back");
  await warp.stop();
  await dockernet(engine, ["warp", "--once"]);
  console.log(`app reaches 1.1.1.1 via ${await nextHop(app, "1.1.1.1")}`);
} finally {
  await engine.stop();
}
