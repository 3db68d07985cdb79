/**
 * The floor of a flow `send_message`, started for a benchmark: test/bench/_flow-floor.ts (a bare
 * Socket.IO relay, this runtime) and the same agent program in a container of the agent image,
 * with the limits flow gives a container by default (flow.default_limits: 1 CPU).
 *
 * ```ts
 * await using floor = await Floor.start(engine);
 * const client = await floor.client();
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Socket } from "socket.io-client";
import { repoRoot, waitFor } from "./dockernet.ts";
import type { TestEngine } from "./engine.ts";
import { AGENT_IMAGE, BINARY_IN_IMAGE } from "./flow-image.ts";
import { connect, tempDir } from "./flow-server.ts";
import { freePort } from "./ports.ts";

/** The floor's container name, which its clients' `container_id` names (the relay ignores it). */
export const FLOOR_CONTAINER = "floor";

export class Floor implements AsyncDisposable {
  readonly #clients: Socket[] = [];

  private constructor(
    readonly engine: TestEngine,
    readonly relay: ChildProcess,
    readonly url: string,
    readonly dir: string,
  ) {}

  /** The relay's process id (for its CPU time). */
  get pid(): number {
    return this.relay.pid ?? 0;
  }

  /** Starts the relay and its agent; resolves once the agent is connected. */
  static async start(engine: TestEngine): Promise<Floor> {
    const dir = await tempDir("dnbench-floor-");
    const port = await freePort();
    const relay = spawn(join(repoRoot, "node_modules/.bin/bun"), [join(repoRoot, "test/bench/_flow-floor.ts"), String(port), join(dir, "floor.sock")], { stdio: ["ignore", "pipe", "inherit"] });
    const floor = new Floor(engine, relay, `http://127.0.0.1:${port}`, dir);
    const said: string[] = [];
    relay.stdout?.on("data", (chunk: Buffer) => void said.push(chunk.toString()));
    try {
      await waitFor("the floor listening", () => said.join("").includes("listening"));
      const limits = ["--cpus", "1", "--memory", "1g", "--pids-limit", "1024"];
      await engine.docker(["run", "-d", "--name", "floor-agent", "--label", `dockernet.test=${engine.runId}`, ...limits, "-v", `${dir}:/floor`, AGENT_IMAGE, BINARY_IN_IMAGE, "flow", "agent", "--socket", "/floor/floor.sock"]);
      await waitFor("the floor's agent to connect", () => said.join("").includes("agent connected"));
    } catch (error) {
      await floor[Symbol.asyncDispose]();
      throw error;
    }
    return floor;
  }

  /** A connected client; closed with the floor. */
  async client(): Promise<Socket> {
    const socket = await connect(this.url, undefined);
    this.#clients.push(socket);
    return socket;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const socket of this.#clients.splice(0)) socket.close();
    await this.engine.docker(["rm", "-f", "floor-agent"]).catch(() => {});
    this.relay.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
