import { createServer, type Server as HttpServer } from "node:http";
import { DockernetError } from "../../../core/errors.ts";
import type { ListenAddress } from "../../../core/listen.ts";
import type { Logger } from "../../../core/logger.ts";
import { readPageFiles } from "../page/files.ts";
import { pageHandler } from "../page/serve.ts";
import type { FlowClients, RequestHandler } from "./clients.ts";

export interface FlowServerOptions {
  listen: ListenAddress;
  /** Served at `/socket.io/`; closed with the server. */
  clients: FlowClients;
  api: RequestHandler;
  log: Logger;
}

/** The listener of `flow serve`; disposing it disconnects the clients and closes it. */
export interface FlowServer extends AsyncDisposable {
  /** Why it does not serve (for /healthz), or undefined. */
  health(): string | undefined;
}

/**
 * The HTTP server of `flow serve`: the page at `/` and its files under `/page/`, Socket.IO v4 (WebSocket and
 * long-polling) at `/socket.io/`. Resolves once it listens.
 */
export async function startFlowServer(options: FlowServerOptions): Promise<FlowServer> {
  const { listen, clients } = options;
  const servePage = pageHandler(await readPageFiles());
  const http: HttpServer = createServer((request, response) => {
    if (servePage(request, response)) return;
    const path = (request.url ?? "/").split("?")[0];
    if (!path?.startsWith("/socket.io/")) response.writeHead(404, { "content-type": "text/plain" }).end("not found: the page is at /\n");
  });
  clients.serve(http, options.api);
  await new Promise<void>((resolve, reject) => {
    http.once("error", (error) => reject(new DockernetError(`flow cannot listen on ${listen.host}:${listen.port}: ${error.message}`, { code: "LISTEN_FAILED", cause: error })));
    http.listen(listen.port, listen.host, () => resolve());
  });
  return {
    health: () => (http.listening ? undefined : `the API listener on ${listen.host}:${listen.port} is closed`),
    async [Symbol.asyncDispose]() {
      await clients[Symbol.asyncDispose]();
      http.closeAllConnections?.();
    },
  };
}
