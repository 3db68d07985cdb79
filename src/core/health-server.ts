import { createServer, type Server } from "node:http";
import { DockernetError } from "./errors.ts";
import type { ListenAddress } from "./listen.ts";
import type { Metrics } from "./metrics.ts";

/** Why the process is not healthy, or undefined when it is. */
export type HealthCheck = () => string | undefined;

/** Serves `GET /healthz` (200, or 503 with a JSON reason) and `GET /metrics` (Prometheus text). */
export async function startHealthServer(listen: ListenAddress, metrics: Metrics, check: HealthCheck): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/healthz") {
      const reason = check();
      response.writeHead(reason ? 503 : 200, { "content-type": "application/json" }).end(`${JSON.stringify(reason ? { status: "unhealthy", reason } : { status: "ok" })}\n`);
    } else if (path === "/metrics") {
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(metrics.render());
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: try /healthz or /metrics\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) =>
      reject(new DockernetError(`cannot listen on ${listen.host}:${listen.port}: ${error.message}`, { code: "LISTEN_FAILED", cause: error })),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}
