import { rm } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { DockernetError, errorMessage } from "../../../core/errors.ts";
import { listenPrivately } from "../../../net/private-socket.ts";
import { controlPath } from "../config.ts";
import type { LinkStatus } from "../link/supervisor.ts";
import type { ForwardStatus } from "./ports.ts";
import type { BridgeWarning } from "./warnings.ts";

/** What `bridge status` shows, as the running bridge reports it. */
export interface BridgeStatus {
  pid: number;
  socket: string;
  provider: string;
  server: { name: string; address: string; created_by_bridge: boolean; hourly_price?: string } | null;
  ssh: LinkStatus;
  docker: { reachable: boolean; last_check: string | null; last_error: string | null };
  forwards: ForwardStatus[];
  /** What the user must see, each with the container it concerns (the log has them too). */
  warnings: BridgeWarning[];
  activity: { connections: number; bytes: number; idle_s: number; idle_time_left_s: number | null };
  /** Why the server is not idle (issue 18): the containers running on it that count as use. */
  idle: { counts_running: boolean; kept_by: string[] } | null;
}

/**
 * The bridge's control endpoint: HTTP on a second Unix socket beside the main one (0600).
 * `GET /status` answers from the running bridge (never a stale file); `POST /stop` stops it.
 */
export async function startControl(socket: string, handlers: { status(): BridgeStatus; stop(): void }): Promise<{ close(): Promise<void> }> {
  const path = controlPath(socket);
  await rm(path, { force: true });
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/status") {
      res.writeHead(200, { "content-type": "application/json" }).end(`${JSON.stringify(handlers.status())}\n`);
    } else if (req.method === "POST" && req.url === "/stop") {
      res.writeHead(202, { "content-type": "application/json" }).end('{"stopping":true}\n');
      handlers.stop();
    } else {
      res.writeHead(404).end();
    }
  });
  // Private from the first instant, like the bridge socket: `stop` is on it.
  await listenPrivately(server, path, "the bridge's control socket");
  server.on("error", () => {});
  return {
    close: async () => {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      await rm(path, { force: true });
    },
  };
}

function call(socket: string, method: "GET" | "POST", path: string): Promise<unknown> {
  const where = controlPath(socket);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: where, method, path, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        new DockernetError(error.code === "ENOENT" || error.code === "ECONNREFUSED" ? `no bridge is running on ${socket}` : `the bridge on ${socket} did not answer: ${errorMessage(error)}`, {
          code: "BRIDGE_NOT_RUNNING",
          hint: "start one with `dockernet bridge start`, or name its socket with --socket",
        }),
      ),
    );
    req.end();
  });
}

/** The running bridge's status, from its control socket. */
export async function fetchStatus(socket: string): Promise<BridgeStatus> {
  return (await call(socket, "GET", "/status")) as BridgeStatus;
}

/** Asks the running bridge to stop. */
export async function requestStop(socket: string): Promise<void> {
  await call(socket, "POST", "/stop");
}

/** Resolves true once process `pid` is gone, false if it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return true;
    }
  }
  return false;
}
