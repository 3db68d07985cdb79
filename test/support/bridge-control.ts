/**
 * A bridge's control socket without the rest of a bridge: the real control server
 * (src/modes/bridge/local/control.ts) answering a fixed status, for the tests and benchmarks of
 * `bridge status` and `bridge stop` as a user runs them (their own process, their own loads).
 * The PID it reports is a `sleep` child that `POST /stop` ends, as a stopping bridge would end.
 *
 * ```ts
 * await using control = await serveBridgeControl();
 * await exec(bun, ["src/main.ts", "bridge", "status", "--socket", control.socket]);
 * ```
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControl, type BridgeStatus } from "../../src/modes/bridge/local/control.ts";

export interface BridgeControl extends AsyncDisposable {
  /** The bridge socket path to name with --socket (its control socket is beside it). */
  readonly socket: string;
  /** The status it answers. */
  readonly status: BridgeStatus;
  /** How many times it was asked to stop. */
  readonly stops: number;
}

/** Serves a bridge's control socket in a fresh directory (see the module comment). */
export async function serveBridgeControl(): Promise<BridgeControl> {
  const dir = mkdtempSync(join(tmpdir(), "bridge-control-"));
  const socket = join(dir, "bridge.sock");
  const bridge = spawn("sleep", ["600"], { stdio: "ignore" });
  const status: BridgeStatus = {
    pid: bridge.pid as number,
    socket,
    provider: "ssh",
    server: { name: "ssh://dev@build-box:22", address: "build-box:22", created_by_bridge: false },
    ssh: { connected: true, since: "2026-01-01T00:00:00.000Z", last_error: null, reconnects: 0 },
    docker: { reachable: true, last_check: "2026-01-01T00:00:01.000Z", last_error: null },
    forwards: [{ container: "web", remote: "127.0.0.1:8080", requested: 8080, actual: 8080, bytes: 1234, connections: 0 }],
    activity: { connections: 0, bytes: 5678, idle_s: 3, idle_time_left_s: null },
    warnings: [{ container: "dns", message: "UDP port 5353 not forwarded: SSH carries only TCP", since: "2026-01-01T00:00:02.000Z" }],
    idle: null,
  };
  let stops = 0;
  const control = await startControl(socket, {
    status: () => status,
    stop: () => {
      stops++;
      bridge.kill();
    },
  });
  return {
    socket,
    status,
    get stops() {
      return stops;
    },
    async [Symbol.asyncDispose]() {
      bridge.kill();
      await control.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
