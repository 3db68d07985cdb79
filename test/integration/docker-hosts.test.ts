import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { repoRoot } from "../support/dockernet.ts";
import { TestEngine } from "../support/engine.ts";
import { makeTlsFiles, startSsh } from "../support/remote-access.ts";
import { nextHop } from "../support/routing.ts";

setDefaultTimeout(120_000);

/** Runs `dockernet warp --once` from source inside the engine's namespace, where its tcp/ssh endpoints listen. */
function warpOnce(engine: TestEngine, env: Record<string, string>) {
  return exec("nsenter", [`--net=/run/netns/${engine.name}`, process.execPath, join(repoRoot, "src/main.ts"), "warp", "--once"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    allowFail: true,
  });
}

async function scenario(engine: TestEngine, subnet: string) {
  const net = await engine.network("vpn", { subnet });
  const warp = await engine.run("warp-1", { network: net.name });
  const app = await engine.run("app", { network: net.name, labels: { "network.warp.target": "warp-1" } });
  return { app, via: await warp.ip(net.name) };
}

describe("--docker-host / DOCKER_HOST", () => {
  test("tcp://", async () => {
    await using engine = await TestEngine.start({ name: "dntest-tcp", subnet: 101, extraArgs: ["-H", "tcp://127.0.0.1:2375"] });
    const { app, via } = await scenario(engine, "10.84.1.0/24");
    const result = await warpOnce(engine, { DOCKER_HOST: "tcp://127.0.0.1:2375" });
    expect(result.stderr).toContain("reconciled once");
    expect(result.code).toBe(0);
    expect(await nextHop(app, "1.1.1.1")).toBe(via);
  });

  test("tcp:// with TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH); a DOCKER_CERT_PATH without the files is a usage error", async () => {
    const tls = await makeTlsFiles();
    try {
      await using engine = await TestEngine.start({ name: "dntest-tls", subnet: 102, extraArgs: [...tls.server, "-H", "tcp://127.0.0.1:2376"] });
      const { app, via } = await scenario(engine, "10.84.2.0/24");
      const refused = await warpOnce(engine, { DOCKER_HOST: "tcp://127.0.0.1:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: join(tls.dir, "missing") });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("cannot read TLS file");
      const result = await warpOnce(engine, { DOCKER_HOST: "tcp://127.0.0.1:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: tls.dir });
      expect(result.code).toBe(0);
      expect(await nextHop(app, "1.1.1.1")).toBe(via);
    } finally {
      await rm(tls.dir, { recursive: true, force: true });
    }
  });

  test("ssh:// (key from ssh-agent, host key from known_hosts; the remote docker dials the engine)", async () => {
    await using engine = await TestEngine.start({ name: "dntest-ssh", subnet: 103 });
    await using ssh = await startSsh(engine.name, engine.host);
    const { app, via } = await scenario(engine, "10.84.3.0/24");
    const home = await mkdtemp(join(tmpdir(), "dockernet-home-"));
    const env = { DOCKER_HOST: ssh.url, SSH_AUTH_SOCK: ssh.agentSocket, HOME: home };
    try {
      // An unknown host key is refused, as ssh with StrictHostKeyChecking=yes would.
      const unknown = await warpOnce(engine, env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain("the SSH host key of 127.0.0.1:2222 is not in known_hosts");
      expect(await nextHop(app, "1.1.1.1")).toBe("10.84.3.1");
      await mkdir(join(home, ".ssh"));
      await writeFile(join(home, ".ssh", "known_hosts"), ssh.knownHostsLine);
      const result = await warpOnce(engine, env);
      expect(result.stderr).toContain("reconciled once");
      expect(result.code).toBe(0);
      expect(await nextHop(app, "1.1.1.1")).toBe(via);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
