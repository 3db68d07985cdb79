import { describe, expect, test } from "bun:test";
import { runCommand } from "../../src/net/runner.ts";

// Under bun, runCommand uses bun's own spawn; the node:child_process path is what Deno runs
// (the deno e2e tests of each mode go through it).
describe("runCommand", () => {
  test("the input reaches the command's stdin; stdout and stderr come back apart", async () => {
    expect(await runCommand("sh", ["-c", "cat; echo to-stderr >&2"], { input: "line 1\nline 2\n" })).toEqual({ stdout: "line 1\nline 2\n", stderr: "to-stderr\n", code: 0 });
  });

  test("without input the command reads end of file at once", async () => {
    expect((await runCommand("cat", [], { timeoutMs: 2000 })).stdout).toBe("");
  });

  test("a failure names the command and carries its stderr; allowFail returns the code instead", async () => {
    await expect(runCommand("sh", ["-c", "echo bad value >&2; exit 3"])).rejects.toMatchObject({ code: "COMMAND_FAILED", message: "sh -c echo bad value >&2; exit 3 failed: bad value" });
    expect(await runCommand("sh", ["-c", "echo bad >&2; exit 3"], { allowFail: true })).toEqual({ stdout: "", stderr: "bad\n", code: 3 });
  });

  test("a command ended by a signal says which", async () => {
    await expect(runCommand("sh", ["-c", "kill -TERM $$"])).rejects.toMatchObject({ code: "COMMAND_FAILED", message: "sh -c kill -TERM $$ failed: killed by SIGTERM" });
  });

  test("a missing command is named, with the package to install", async () => {
    await expect(runCommand("dockernet-no-such-command", [])).rejects.toMatchObject({ code: "COMMAND_NOT_FOUND", message: "command not found: dockernet-no-such-command" });
  });

  test("a command that runs too long is killed after the timeout", async () => {
    const started = Date.now();
    await expect(runCommand("sleep", ["10"], { timeoutMs: 200 })).rejects.toMatchObject({ code: "COMMAND_TIMEOUT", message: "sleep 10 timed out after 200 ms" });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("a value with shell syntax is one argument, never interpreted", async () => {
    expect((await runCommand("echo", ["$(id)", "a;b", "`x`"])).stdout).toBe("$(id) a;b `x`\n");
  });
});
