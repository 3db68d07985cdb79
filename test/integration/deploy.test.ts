import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { which } from "../support/_exec.ts";
import { repoRoot, waitFor } from "../support/dockernet.ts";
import { TestEngine } from "../support/engine.ts";
import { importHostImage } from "../support/host-image.ts";
import { nextHop } from "../support/routing.ts";

setDefaultTimeout(180_000);

let engine: TestEngine;
beforeAll(async () => {
  engine = await TestEngine.start({ name: "dntest-swarm", subnet: 105 });
});
afterAll(async () => {
  await engine?.stop();
});

/** A fenced code block of the README, found by its first line. */
async function readmeBlock(firstLine: string): Promise<string> {
  const readme = await readFile(join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf(`\n${firstLine}\n`);
  if (start < 0) throw new Error(`README.md has no block starting with ${firstLine}`);
  return readme.slice(start + 1, readme.indexOf("\n```", start));
}

describe("Beyond one machine", () => {
  test("the README's Swarm stack, deployed as written, runs dockernet on the node and routes a target", async () => {
    // The images the stack names, made from this machine's files: the static docker CLI, and the
    // compiled binary with nsenter and ip (what the README's Dockerfile installs).
    const [docker = "docker", nsenter = "nsenter", ip = "ip"] = await Promise.all(["docker", "nsenter", "ip"].map(async (command) => (await which(command)) ?? command));
    await importHostImage(engine, "docker:cli", { "/usr/local/bin/docker": docker });
    await importHostImage(
      engine,
      "dockernet:0.1.0",
      { "/usr/local/bin/dockernet": join(repoRoot, "dist/dockernet"), "/usr/bin/nsenter": nsenter, "/usr/sbin/ip": ip },
      ['ENTRYPOINT ["/usr/local/bin/dockernet"]', 'CMD ["run", "warp", "join"]', "ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin"],
    );
    await engine.docker(["swarm", "init", "--advertise-addr", "10.213.105.1"]);
    const stack = join(tmpdir(), `dockernet-stack-${engine.runId}.yml`);
    // As written, but for the one host-specific value: this engine's socket is not /var/run/docker.sock.
    const written = await readmeBlock("# dockernet-stack.yml");
    expect(written).toContain("/var/run/docker.sock:/var/run/docker.sock");
    await writeFile(stack, written.replaceAll("/var/run/docker.sock:", `${engine.socketPath}:`));
    try {
      await engine.docker(["stack", "deploy", "-c", stack, "dockernet"]);
      const net = await engine.network("vpn", { subnet: "10.86.1.0/24" });
      const warp = await engine.run("warp-1", { network: net.name });
      const app = await engine.run("app", { network: net.name, labels: { "network.warp.target": "warp-1" } });
      await waitFor("the launcher to start dockernet", async () => (await engine.docker(["ps", "-q", "--filter", "name=^dockernet$"])).stdout.trim() !== "", 60_000, 500);
      await waitFor("the target routed by the deployed dockernet", async () => (await nextHop(app, "1.1.1.1")) === (await warp.ip(net.name)), 60_000, 500);
      const inspect = await engine.docker(["inspect", "-f", "{{.HostConfig.PidMode}} {{.HostConfig.CapAdd}}", "dockernet"]);
      expect(inspect.stdout.trim()).toBe("host [CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE]");
    } finally {
      await engine.docker(["stack", "rm", "dockernet"], { allowFail: true });
      await engine.docker(["rm", "-f", "dockernet"], { allowFail: true });
      await engine.docker(["swarm", "leave", "--force"], { allowFail: true });
      await rm(stack, { force: true });
    }
  });
});
