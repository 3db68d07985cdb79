/**
 * `bridge start --detach`, as the README starts it: the compiled binary returns once the bridge it
 * started serves, the bridge keeps serving in the background with its log beside the socket, and a
 * second `--detach` on the same socket fails instead of reporting the first one's success.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { bridgeDir, bridgeEnv, dockerEnv, startArgs } from "../support/bridge-harness.ts";
import { ensureBinary } from "../support/flow-image.ts";
import { RemoteHost } from "../support/remote-host.ts";

setDefaultTimeout(120_000);

let remote: RemoteHost;
beforeAll(async () => {
  remote = await RemoteHost.start({ name: "dntest-remote5", subnet: 122 });
});
afterAll(async () => {
  await remote?.stop();
});

describe("bridge start --detach", () => {
  test("returns once its bridge serves; the bridge serves docker ps in the background; a second one fails", async () => {
    const binary = await ensureBinary();
    const dir = await bridgeDir();
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...bridgeEnv(dir) };
    await writeFile(env.DOCKERNET_BRIDGE_KNOWN_HOSTS as string, remote.knownHostsLine);
    const socket = join(dir, "bridge.sock");
    const bridge = (args: string[], allowFail = true) => exec(binary, args, { env, allowFail, timeoutMs: 90_000 });
    try {
      const started = await bridge([...startArgs(remote, dir), "--detach"]);
      expect(started.stderr + started.stdout).toContain("running in the background");
      expect(started.code).toBe(0);
      const pid = Number(/PID (\d+)/.exec(started.stdout)?.[1]);
      expect(pid).toBeGreaterThan(0);
      expect((await exec("docker", ["ps"], { env: dockerEnv(socket, dir) })).stdout).toStartWith("CONTAINER ID");
      expect(await readFile(`${socket}.log`, "utf8")).toContain("bridge started");

      const second = await bridge([...startArgs(remote, dir), "--detach"]);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain("exited");
      expect(await readFile(`${socket}.log`, "utf8")).toContain(`already running on ${socket} (PID ${pid})`);

      expect((await bridge(["bridge", "stop", "--socket", socket])).code).toBe(0);
    } finally {
      await exec(binary, ["bridge", "stop", "--socket", socket], { env, allowFail: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
