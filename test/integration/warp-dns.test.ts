/**
 * Where a target's lookups leave, on a real engine whose upstream resolver is on the host's
 * loopback (`nameserver 127.0.0.1`, as with a local dnsmasq): dockerd reads that resolv.conf in a
 * mount namespace of its own (the machine's stays untouched), and `warp status` runs there too. Packets are counted on the wire in
 * the engine's namespace and in the warp container's.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { exec } from "../support/_exec.ts";
import { dockernet, dockernetCommand, dockernetEnv } from "../support/dockernet.ts";
import { useTestEngine, type TestContainer } from "../support/engine.ts";
import { nextHop } from "../support/routing.ts";

setDefaultTimeout(120_000);

const engine = useTestEngine({ name: "dntest-wdns", subnet: 126, resolvConf: "nameserver 127.0.0.1\n" });
const udp53 = (chain: string) => [chain, "-p", "udp", "--dport", "53", "-j", "ACCEPT"];

/** Packets of a raw-table counter (`iptables -t raw -A CHAIN ... -p udp --dport 53`). */
async function counted(run: (args: string[]) => Promise<{ stdout: string }>, chain: string): Promise<number> {
  const listed = await run(["iptables", "-w", "-t", "raw", "-L", chain, "-n", "-v", "-x"]);
  return Number(listed.stdout.split("\n").find((line) => line.includes("dpt:53"))?.trim().split(/\s+/)[0] ?? Number.NaN);
}

async function lookUp(container: TestContainer): Promise<void> {
  await container.exec(["ping", "-c", "1", "-W", "1", "dockernet-lookup.example"]);
}

describe("DNS", () => {
  test("an upstream on the host's loopback: lookups leave from the host past warp, and status says so with the remedy; --dns through warp closes it", async () => {
    const net = await engine.network("vpn", { subnet: "10.126.1.0/24" });
    const warp = await engine.run("warp-1", { network: net.name });
    const via = await warp.ip(net.name);
    const leaky = await engine.run("leaky", { network: net.name, labels: { "network.warp.target": "warp-1" } });
    const guarded = await engine.run("guarded", { network: net.name, labels: { "network.warp.target": "warp-1" }, dns: [via] });
    expect((await dockernet(engine, ["warp", "--once"])).code).toBe(0);
    expect(await nextHop(leaky, "192.0.2.1")).toBe(via);

    // dockernet runs beside dockerd, seeing the files it sees: here, in dockerd's mount namespace.
    const status = async (args: string[]) => {
      const [command, prefix] = dockernetCommand();
      return (await exec("nsenter", [`--mount=${engine.mountNamespace}`, command, ...prefix, "warp", "status", ...args], { env: dockernetEnv(engine) })).stdout;
    };
    const rows = JSON.parse(await status(["--json"])) as { target: string; dns: { servers: unknown[]; remedy?: string } }[];
    const byName = Object.fromEntries(rows.map((row) => [row.target, row.dns]));
    expect(byName.leaky?.servers).toEqual([{ server: "127.0.0.1", via: "host" }]);
    expect(byName.leaky?.remedy).toContain(`lookups leave from the host, past warp`);
    expect(byName.leaky?.remedy).toContain(`--dns ${via}`);
    expect(byName.guarded).toEqual({ servers: [{ server: via, via: "warp" }] });
    expect(await status([])).toContain("leaky: dns: lookups leave from the host, past warp");

    // On the wire: dockerd asks 127.0.0.1 from the engine's own namespace for the routed target...
    const inEngine = (args: string[]) => engine.hostExec(args);
    expect((await inEngine(["iptables", "-w", "-t", "raw", "-A", ...udp53("OUTPUT")])).code).toBe(0);
    expect((await warp.nsExec(["iptables", "-w", "-t", "raw", "-A", ...udp53("PREROUTING")])).code).toBe(0);
    await lookUp(leaky);
    const fromHost = await counted(inEngine, "OUTPUT");
    expect(fromHost).toBeGreaterThan(0);
    expect(await counted((args) => warp.nsExec(args), "PREROUTING")).toBe(0);
    // ...and the remedy's lookups go into the warp container, none from the host.
    await lookUp(guarded);
    expect(await counted(inEngine, "OUTPUT")).toBe(fromHost);
    expect(await counted((args) => warp.nsExec(args), "PREROUTING")).toBeGreaterThan(0);
  });
});
