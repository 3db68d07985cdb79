/**
 * The README's 15-line Python client, run as written against the manager's real channel: it
 * connects to DOCKERNET_FLOW_SOCKET, announces itself with an event, and answers ping.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { which } from "../support/_exec.ts";
import { repoRoot, waitFor } from "../support/dockernet.ts";
import { createLogger } from "../../src/core/logger.ts";
import { ChannelHub } from "../../src/modes/flow/manager/channel.ts";

setDefaultTimeout(30_000);

const dir = await mkdtemp(join(tmpdir(), "dnflow-py-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function readmePython(): Promise<string> {
  const readme = await readFile(join(repoRoot, "README.md"), "utf8");
  const block = /```python\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error("README.md has no ```python block");
  return block;
}

describe("the README's Python client", () => {
  test("is 15 lines, connects to its socket, sends an event, answers ping and refuses the rest", async () => {
    const python = await which("python3");
    if (!python) throw new Error("python3 not found: the README's client cannot be checked");
    const code = await readmePython();
    expect(code.trimEnd().split("\n")).toHaveLength(15);

    const events: { command: string; data: unknown }[] = [];
    const hub = new ChannelHub({ socketDir: join(dir, "s"), log: createLogger("flow"), requestTimeoutMs: 5000, onEvent: (_id, command, data) => events.push({ command, data }) });
    const id = "0123456789ab".padEnd(64, "0");
    const dirName = hub.newDirName();
    await hub.open(id, dirName);
    const child = spawn(python, ["-c", code], { env: { PATH: process.env.PATH, DOCKERNET_FLOW_SOCKET: join(hub.hostDir(dirName), "flow.sock") }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await waitFor("the client connected", () => hub.status(id).socket_connected, 10_000);
      expect(await hub.request(id, "ping", {})).toEqual({ pong: true });
      await expect(hub.request(id, "dump", {})).rejects.toThrow("unknown command dump");
      await waitFor("its ready event", () => events.length > 0);
      expect(events[0]).toMatchObject({ command: "ready", data: { pid: child.pid } });
    } finally {
      child.kill();
      await hub.closeAll();
    }
    expect(stderr).toBe("");
  });
});
