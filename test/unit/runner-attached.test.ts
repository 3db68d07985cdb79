import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runAttached } from "../../src/net/runner.ts";

describe("runAttached", () => {
  test("the command's exit status comes back unchanged", async () => {
    expect(await runAttached("sh", ["-c", "exit 3"])).toBe(3);
    expect(await runAttached("true", [])).toBe(0);
  });

  test("a command ended by a signal: 128 + its number, as a shell reports it", async () => {
    expect(await runAttached("sh", ["-c", "kill -TERM $$"])).toBe(128 + 15);
    expect(await runAttached("sh", ["-c", "kill -KILL $$"])).toBe(128 + 9);
  });

  test("a signal sent to this process is handed on, and the handler is gone afterwards", async () => {
    const before = process.listenerCount("SIGUSR2");
    // The shell says when its trap is set: a signal before that would end it by USR2, not 42.
    const ready = join(await mkdtemp(join(tmpdir(), "dockernet-attached-")), "ready");
    const running = runAttached("sh", ["-c", `trap 'exit 42' USR2; : > ${ready}; while :; do sleep 0.05; done`]);
    while (!existsSync(ready)) await Bun.sleep(10);
    expect(process.listenerCount("SIGUSR2")).toBe(before + 1);
    process.emit("SIGUSR2", "SIGUSR2");
    expect(await running).toBe(42);
    expect(process.listenerCount("SIGUSR2")).toBe(before);
    await rm(dirname(ready), { recursive: true, force: true });
  });

  test("a missing program is a DockernetError naming it", async () => {
    await expect(runAttached("/nonexistent/runc", ["--version"])).rejects.toThrow(/cannot run \/nonexistent\/runc/);
  });
});
