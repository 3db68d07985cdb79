// Private from the first instant (src/net/private-socket.ts): with umask 000, another user (a
// process running as nobody, connecting in a tight loop) never connects to a socket while it is
// bound and put in place; a plain listen + chmod is caught by the same watcher. A parent directory
// others can write without the sticky bit is refused.
import { afterEach, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockernetError } from "../../src/core/errors.ts";
import { listenPrivately } from "../../src/net/private-socket.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dirWithMode(mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), "bridge-private-"));
  chmodSync(dir, mode);
  dirs.push(dir);
  return dir;
}

// Connects to each path over and over as uid 65534 (until killed, at most a minute), printing CONNECTED for each success.
const watcherScript = `
import socket, sys, time
paths = sys.argv[1:]
end = time.time() + 60
print("READY", flush=True)
while time.time() < end:
    for path in paths:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            print("CONNECTED " + path, flush=True)
        except OSError:
            pass
        finally:
            s.close()
`;

/** Watches `paths` as nobody while `during` runs; returns how many connections succeeded. */
async function watchAsNobody(paths: string[], during: () => Promise<void>): Promise<{ connected: number }> {
  const child = spawn("/usr/bin/python3", ["-c", watcherScript, ...paths], { uid: 65534, gid: 65534, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  while (!out.includes("READY")) await Bun.sleep(5);
  try {
    await during();
  } finally {
    child.kill();
  }
  await new Promise((resolve) => child.once("exit", resolve));
  return { connected: out.split("\n").filter((line) => line.startsWith("CONNECTED")).length };
}

const closeServer = (server: Server) => new Promise((resolve) => server.close(resolve));

describe("sockets private from the first instant", () => {
  test("umask 000: nobody never connects while the sockets are bound, again and again; each ends up 0600", async () => {
    const dir = dirWithMode(0o755);
    const paths = [join(dir, "bridge.sock"), join(dir, "bridge.sock.ctl")];
    const previous = process.umask(0);
    try {
      const seen = await watchAsNobody(paths, async () => {
        for (let round = 0; round < 40; round++) {
          const servers = paths.map(() => createServer());
          await Promise.all(servers.map((server, i) => listenPrivately(server, paths[i]!, "a test socket")));
          for (const path of paths) expect(statSync(path).mode & 0o777).toBe(0o600);
          await Promise.all(servers.map(closeServer));
        }
      });
      expect(seen.connected).toBe(0);
    } finally {
      process.umask(previous);
    }
  });

  test("the watcher does catch a plain listen under umask 000 (what the bridge did before)", async () => {
    const dir = dirWithMode(0o755);
    const path = join(dir, "plain.sock");
    const previous = process.umask(0);
    try {
      const seen = await watchAsNobody([path], async () => {
        const server = createServer((socket) => socket.destroy());
        await new Promise<void>((resolve) => server.listen(path, resolve));
        await Bun.sleep(300);
        await closeServer(server);
      });
      expect(seen.connected).toBeGreaterThan(0);
    } finally {
      process.umask(previous);
    }
  });

  test("a parent directory others can write without the sticky bit is refused, naming it; with the sticky bit it is fine", async () => {
    const open = dirWithMode(0o777);
    const error = await listenPrivately(createServer(), join(open, "bridge.sock"), "the bridge socket").then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(DockernetError);
    expect((error as DockernetError).code).toBe("SOCKET_DIR_UNSAFE");
    expect((error as DockernetError).message).toContain(`the directory ${open} of the bridge socket`);
    expect((error as DockernetError).message).toContain("0777");

    const sticky = dirWithMode(0o1777);
    const server = createServer();
    await listenPrivately(server, join(sticky, "bridge.sock"), "the bridge socket");
    await closeServer(server);
  });
});
