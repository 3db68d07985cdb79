/**
 * Regenerate test/unit/fixtures/ip/ (as root): `node_modules/.bin/bun test/support/capture-ip-fixtures.ts`
 *
 * Captures what dockernet's warp reader reads of real target namespaces, for
 * test/unit/warp-diff.test.ts. It starts a throwaway engine (never the host's Docker), a warp
 * container `warp-1` and three targets, runs the real `dockernet warp --once` against it (the
 * source under bun, or DN_TEST_BIN), and saves each target's namespace in several states:
 *
 * - `unrouted`: Docker's own rules and routes only (before dockernet ran);
 * - `routed`: after `warp --once` with warp-1 running;
 * - `route-deleted`, `foreign`, `masked-rule`: the routed state edited by hand with `ip`;
 * - `blocked`: after `warp --once` with warp-1 stopped (the kill switch).
 *
 * Each fixture holds the inspected target and warp container (what the planner reads) and, per
 * family, the JSON of the two commands the reader runs, in the same `ip -batch` process form.
 */
import { mkdir, readdir, unlink, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { DockerClient } from "../../src/docker/client.ts";
import type { ObservedContainer } from "../../src/docker/types.ts";
import { ipBatch, type IpCommand } from "../../src/net/ip-batch.ts";
import { exec } from "./_exec.ts";
import { dockernet } from "./dockernet.ts";
import { TestEngine, type TestContainer } from "./engine.ts";

const outDir = fileURLToPath(new URL("../unit/fixtures/ip/", import.meta.url));

// The reader's commands (readCommands in src/modes/warp/apply.ts), run the way it runs them:
// `nsenter -t PID -n ip -4|-6 -json -force -batch -`.
const readCommands: IpCommand[] = [
  ["rule", "show"],
  ["route", "show", "table", "all"],
];

/** One captured namespace; see the file comment. */
interface IpFixture {
  about: string;
  target: ObservedContainer;
  warp: ObservedContainer;
  /** Per family, command text (`rule show`) to the JSON `ip` printed for it. */
  ip: Record<"4" | "6", Record<string, unknown>>;
}

async function readIp(pid: number): Promise<IpFixture["ip"]> {
  const ip = { "4": {}, "6": {} } as IpFixture["ip"];
  for (const family of [4, 6] as const) {
    const lines = await ipBatch(pid, readCommands, { family });
    for (const line of lines) {
      if (line.error) throw new Error(`ip -${family} ${line.command.join(" ")}: ${line.error}`);
      ip[family][line.command.join(" ")] = line.output;
    }
  }
  return ip;
}

async function inspect(client: DockerClient, name: string): Promise<ObservedContainer> {
  const container = await client.inspectContainer(name);
  if (!container) throw new Error(`container ${name} is gone`);
  return container;
}

async function warpOnce(engine: TestEngine): Promise<void> {
  const result = await dockernet(engine, ["warp", "--once"]);
  if (result.code !== 0) throw new Error(`dockernet warp --once exited ${result.code}:\n${result.stderr}`);
}

/** `ip ARGS` in a container's namespace; throws when ip refuses. */
async function ipIn(container: TestContainer, args: string[]): Promise<void> {
  const result = await container.nsExec(["ip", ...args]);
  if (result.code !== 0) throw new Error(`ip ${args.join(" ")} in ${container.name}: ${result.stderr.trim()}`);
}

async function main(): Promise<void> {
  const engine = await TestEngine.start({ name: "dnfixtures", subnet: 121 });
  try {
    const client = new DockerClient(engine.host);
    const edge = await engine.network("edge", { subnet: "10.121.1.0/24" });
    // The unit tests need the IPv6 fixtures: fail before any old fixture is removed, rather than write half a set.
    const dual = await engine.network("dual", { subnet: "10.121.2.0/24", ipv6Subnet: "fd00:121:2::/64" }).catch((error: unknown) => {
      throw new Error(`this engine cannot create an IPv6 network, which the app-v6 fixtures need: ${(error as Error).message}`);
    });
    const warp = await engine.run("warp-1", { network: [edge.name, dual.name], ip: "10.121.1.2" });
    const target = (labels: Record<string, string> = {}) => ({ "network.warp.target": "warp-1", ...labels });
    const targets: TestContainer[] = [
      // The default rule (0.0.0.0/0).
      await engine.run("app-default", { network: edge.name, ip: "10.121.1.10", labels: target() }),
      // A destination, a port rule, an MTU and a published port (a reply rule in table main).
      await engine.run("app-ports", {
        network: edge.name,
        ip: "10.121.1.11",
        publish: ["8080:80"],
        labels: target({ "network.warp.routes": "10.0.0.0/8,0.0.0.0/0:tcp:80-443", "network.warp.mtu": "1280" }),
      }),
    ];
    // Both families; IPv4-mapped and NAT64 prefixes, which `ip` may print otherwise than they are written.
    const routes6 = "0.0.0.0/0,::ffff:1.2.3.0/120,64:ff9b::/96,::ffff:1.2.3.0/120:tcp:443";
    targets.push(await engine.run("app-v6", { network: dual.name, ip: "10.121.2.20", labels: target({ "network.warp.routes": routes6 }) }));

    // Written only once all are captured: a run that fails half-way leaves the old set whole.
    const fixtures = new Map<string, IpFixture>();
    const save = async (container: TestContainer, state: string, about: string) => {
      fixtures.set(`${container.name}.${state}.json`, {
        about: `${container.name}, ${state}: ${about}`,
        target: await inspect(client, container.name),
        warp: await inspect(client, "warp-1"),
        ip: await readIp(await container.pid()),
      });
    };

    for (const app of targets) await save(app, "unrouted", "Docker's own rules and routes, before dockernet ran");
    await warpOnce(engine);
    for (const app of targets) await save(app, "routed", "after dockernet warp --once, warp-1 running");

    const [appDefault, appPorts] = targets as [TestContainer, TestContainer];
    await ipIn(appPorts, ["route", "del", "10.0.0.0/8", "table", "211"]);
    await save(appPorts, "route-deleted", "routed, then `ip route del 10.0.0.0/8 table 211`");
    await warpOnce(engine);

    const gateway = "10.121.1.1";
    await ipIn(appDefault, ["route", "add", "192.0.2.0/24", "via", gateway, "table", "211"]);
    await ipIn(appDefault, ["route", "add", "default", "via", gateway, "table", "211", "metric", "5"]);
    await ipIn(appDefault, ["route", "add", "198.51.100.0/24", "via", gateway, "table", "212", "proto", "static"]);
    await ipIn(appDefault, ["rule", "add", "pref", "5260", "lookup", "main"]);
    await ipIn(appDefault, ["rule", "add", "pref", "5230", "to", "203.0.113.0/24", "lookup", "main"]);
    await ipIn(appDefault, ["rule", "add", "pref", "5300", "lookup", "main"]);
    await save(
      appDefault,
      "foreign",
      "routed, then by hand: 192.0.2.0/24 and default metric 5 (proto boot) in table 211, 198.51.100.0/24 (proto static) in table 212, rules 5260 lookup main, 5230 to 203.0.113.0/24 lookup main, 5300 lookup main",
    );
    await ipIn(appDefault, ["rule", "del", "pref", "5300"]);
    await warpOnce(engine);

    // A rule at dockernet's priority whose selector (`from`) the reader does not parse.
    await ipIn(appDefault, ["rule", "del", "pref", "5250", "lookup", "211"]);
    await ipIn(appDefault, ["rule", "add", "pref", "5250", "from", "192.0.2.0/24", "lookup", "211"]);
    await save(appDefault, "masked-rule", "routed, then `ip rule del pref 5250 lookup 211` and `ip rule add pref 5250 from 192.0.2.0/24 lookup 211`");
    await ipIn(appDefault, ["rule", "del", "pref", "5250", "from", "192.0.2.0/24", "lookup", "211"]);
    await warpOnce(engine);

    await warp.stop();
    await warpOnce(engine);
    for (const app of targets) await save(app, "blocked", "after dockernet warp --once, warp-1 stopped (kill switch)");

    await mkdir(outDir, { recursive: true });
    // Fixtures of targets or states this script no longer makes must not linger.
    for (const file of await readdir(outDir)) if (file.endsWith(".json")) await unlink(`${outDir}${file}`);
    for (const [file, fixture] of fixtures) await writeFile(`${outDir}${file}`, `${JSON.stringify(fixture, null, 1)}\n`);
    const version = (await exec("ip", ["-V"])).stdout.trim();
    console.log(`wrote ${fixtures.size} fixtures to ${outDir} (${version})`);
  } finally {
    await engine.stop();
  }
}

await main();
