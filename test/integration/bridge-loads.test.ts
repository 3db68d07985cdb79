// `bridge status` and `bridge stop` make one call on the bridge's control socket: they load neither
// ssh2 nor dockerode. Run from source with the load tracer (test/support/trace-loads.ts: every load
// of those packages printed and made to fail) against a real control server.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { serveBridgeControl } from "../support/bridge-control.ts";
import { repoRoot } from "../support/dockernet.ts";

const bun = join(repoRoot, "node_modules/.bin/bun");
const traced = (args: string[]) =>
  exec(bun, ["--preload", join(repoRoot, "test/support/trace-loads.ts"), join(repoRoot, "src/main.ts"), ...args], { allowFail: true, env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeoutMs: 60_000 });

describe("bridge status and stop load no SSH or Docker code", () => {
  test("status, as text and JSON, answers from the control socket with nothing of ssh2 or dockerode loaded", async () => {
    await using control = await serveBridgeControl();
    const text = await traced(["bridge", "status", "--socket", control.socket]);
    expect(text.stderr).not.toContain("LOADED");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`bridge ${control.socket} (PID ${control.status.pid}), provider ssh`);
    expect(text.stdout).toContain("web");
    const json = await traced(["bridge", "status", "--socket", control.socket, "--json"]);
    expect(json.stderr).not.toContain("LOADED");
    expect(JSON.parse(json.stdout)).toEqual(control.status);
  });

  test("stop asks the bridge to stop and waits for its PID to end, with nothing of ssh2 or dockerode loaded", async () => {
    await using control = await serveBridgeControl();
    const stopped = await traced(["bridge", "stop", "--socket", control.socket]);
    expect(stopped.stderr).not.toContain("LOADED");
    expect(stopped.code).toBe(0);
    expect(control.stops).toBe(1);
    expect(stopped.stderr + stopped.stdout).toContain("bridge stopped");
  });

  test("the tracer does see `bridge start` load ssh2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bridge-loads-"));
    const started = await traced(["bridge", "start", "--host", "ssh://nobody@127.0.0.1:1", "--socket", join(dir, "bridge.sock")]).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(started.stderr).toContain("LOADED");
    expect(started.code).not.toBe(0);
  });
});
