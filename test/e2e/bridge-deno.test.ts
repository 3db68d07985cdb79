/**
 * bridge under Deno: the same TypeScript source (`deno run -A src/main.ts bridge start ...`)
 * serves the docker CLI through one SSH connection to a second host with its own engine.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, realpathSync } from "node:fs";
import { readlink } from "node:fs/promises";
import { join } from "node:path";
import { BridgeRun, httpBody, httpdCommand } from "../support/bridge-harness.ts";
import { repoRoot } from "../support/dockernet.ts";
import { RemoteHost } from "../support/remote-host.ts";

setDefaultTimeout(120_000);

// The executable itself, not node_modules/.bin/deno: that is a node script that runs deno with
// spawnSync and does not pass signals on, so stopping it (SIGTERM) would leave deno running.
const denoExecutable = join(repoRoot, "node_modules/deno/deno");
const deno: [string, string[]] = [denoExecutable, ["run", "-A", join(repoRoot, "src/main.ts")]];
let remote: RemoteHost;

beforeAll(async () => {
  if (!existsSync(denoExecutable)) throw new Error(`${denoExecutable} not found: run npm install (the deno package is a devDependency)`);
  remote = await RemoteHost.start({ name: "dntest-remote3", subnet: 117 });
});

afterAll(async () => {
  await remote?.stop();
});

describe("bridge under Deno", () => {
  test("deno run -A src/main.ts bridge start: docker ps, run --rm -i, a forwarded port, a clean stop", async () => {
    const bridge = await BridgeRun.start(remote, { command: deno, env: { DENO_NO_UPDATE_CHECK: "1" } });
    try {
      // The real path: node_modules may be a link (a git worktree sharing one install).
      expect(await readlink(`/proc/${bridge.daemon.pid}/exe`)).toBe(realpathSync(denoExecutable));
      const ps = await bridge.docker(["ps"]);
      expect(ps.code).toBe(0);
      expect(ps.stdout).toStartWith("CONTAINER ID");
      expect((await bridge.docker(bridge.runArgs("--rm", "-i", remote.engine.image, "sh", "-c", "cat; echo after-eof"), { input: "under-deno\n" })).stdout).toBe("under-deno\nafter-eof\n");
      const port = 23_000 + Math.floor(Math.random() * 1000);
      await bridge.docker(bridge.runArgs("-d", "--name", "deno-web", "-p", `${port}:80`, remote.engine.image, ...httpdCommand("served-under-deno")));
      await bridge.forward("deno-web", port);
      expect(await httpBody(port)).toBe("served-under-deno\n");
      expect(bridge.daemon.find((line) => line.level === "error")).toEqual([]);
    } finally {
      await remote.engine.cleanup();
      expect(await bridge.stop()).toBe(0); // SIGTERM: a clean stop under Deno too
    }
  });
});
