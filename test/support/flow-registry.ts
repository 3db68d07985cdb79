/**
 * A Docker registry for the pull tests: Debian's `docker-registry` run inside a test engine's
 * network namespace on 127.0.0.1 (dockerd trusts loopback registries over plain HTTP, and a
 * registry on the host's own loopback is not reachable from the engine's namespace), with its
 * config and storage under the engine's dir. Nothing here reaches a public registry.
 *
 * ```ts
 * await using registry = await LocalRegistry.start(engine);
 * const image = await registry.push(TEST_IMAGE, "flow/busybox:1"); // "127.0.0.1:5000/flow/busybox:1", gone from the engine
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { which } from "./_exec.ts";
import type { TestEngine } from "./engine.ts";
import { waitFor } from "./wait.ts";

export class LocalRegistry implements AsyncDisposable {
  private constructor(
    readonly engine: TestEngine,
    readonly address: string,
    readonly dir: string,
    readonly child: ChildProcess,
  ) {}

  /** Starts the registry on 127.0.0.1:`port` of the engine's namespace; resolves once it answers. */
  static async start(engine: TestEngine, port = 5000): Promise<LocalRegistry> {
    const registry = await which("docker-registry");
    if (!registry) throw new Error("docker-registry is not installed: run test/support/setup.sh (Debian package docker-registry)");
    const nsenter = (await which("nsenter")) ?? "nsenter";
    const dir = join(engine.dir, "registry");
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, "data"), { recursive: true });
    const address = `127.0.0.1:${port}`;
    const config = ["version: 0.1", "log:", "  level: info", "storage:", "  filesystem:", `    rootdirectory: ${join(dir, "data")}`, "http:", `  addr: ${address}`, ""].join("\n");
    await writeFile(join(dir, "config.yml"), config);
    const child = spawn(nsenter, [`--net=/run/netns/${engine.name}`, registry, "serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)));
    const started = new LocalRegistry(engine, address, dir, child);
    try {
      // It says so once it listens (its log goes to stderr).
      await waitFor(`the registry on ${address}`, () => {
        if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr}`);
        return /listening on/.test(stderr);
      }, 15_000, 50);
    } catch (error) {
      await started[Symbol.asyncDispose]();
      throw error;
    }
    return started;
  }

  /** Tags `image` as `address/name`, pushes it and removes that tag (and `image` with `removeSource`); resolves with the reference. */
  async push(image: string, name: string): Promise<string> {
    const reference = `${this.address}/${name}`;
    await this.engine.docker(["tag", image, reference]);
    await this.engine.docker(["push", reference]);
    await this.engine.docker(["rmi", reference]);
    return reference;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill("SIGTERM");
      await new Promise((resolve) => this.child.once("exit", resolve));
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
