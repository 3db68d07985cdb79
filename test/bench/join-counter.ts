/**
 * A counting proxy for the Docker API: a unix socket that forwards every byte to the engine's
 * socket and counts the HTTP requests going through it, by kind. Point DOCKER_HOST at it to
 * count the API calls a command makes.
 */
import { createServer, connect, type Server } from "node:net";
import { rm } from "node:fs/promises";

const requestLine = /(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r\n/g;

/** `GET /v1.41/containers/abc/json` -> `GET /containers/{id}/json`. */
function kind(method: string, path: string): string {
  const bare = path.split("?")[0]!.replace(/^\/v\d+\.\d+/, "");
  return `${method} ${bare.replace(/^\/(containers|networks)\/(?!json$)[^/]+/, (_, what: string) => `/${what}/{id}`)}`;
}

/** The proxy socket and its counts; `take()` reads and resets them. */
export class ApiCounter {
  readonly counts = new Map<string, number>();
  readonly #server: Server;
  readonly socketPath: string;

  private constructor(server: Server, socketPath: string) {
    this.#server = server;
    this.socketPath = socketPath;
  }

  static async start(socketPath: string, engineSocket: string): Promise<ApiCounter> {
    await rm(socketPath, { force: true });
    const server = createServer();
    const counter = new ApiCounter(server, socketPath);
    server.on("connection", (client) => {
      const upstream = connect(engineSocket);
      let tail = "";
      client.on("data", (chunk: Buffer) => {
        const text = tail + chunk.toString("latin1");
        for (const match of text.matchAll(requestLine)) counter.#add(kind(match[1]!, match[2]!));
        tail = text.slice(Math.max(0, text.lastIndexOf("\r\n") + 2)).slice(-512);
        upstream.write(chunk);
      });
      upstream.on("data", (chunk) => client.write(chunk));
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        a.on("end", () => b.end());
        a.on("error", () => b.destroy());
        a.on("close", () => b.destroy());
      }
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return counter;
  }

  #add(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  /** Calls counted since the last reset, and a reset. */
  take(): { total: number; byKind: Record<string, number> } {
    const byKind = Object.fromEntries([...this.counts].sort());
    const total = [...this.counts.values()].reduce((sum, n) => sum + n, 0);
    this.counts.clear();
    return { total, byKind };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }
}
