import { createServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import { DockernetError } from "../../../core/errors.ts";
import type { ListenAddress } from "../../../core/listen.ts";
import type { Logger } from "../../../core/logger.ts";
import type { FlowApi, Session } from "./api.ts";
import { errorReply, FlowError } from "../protocol/replies.ts";
import { pageContentSecurityPolicy, pageHtml } from "../page/page.ts";
import { maxFrameBytes } from "../protocol/frames.ts";
import { requestNames, type RequestName } from "../protocol/requests.ts";
import { tokenMatches } from "../protocol/token.ts";

export interface FlowServerOptions {
  listen: ListenAddress;
  token: string;
  /** Origins allowed beside the page the server itself serves. */
  allowedOrigins: readonly string[];
  api: FlowApi;
  log: Logger;
}

/** What the rest of flow sends to clients. */
export interface Broadcaster {
  /** To every authenticated client. */
  all(event: string, data: unknown): void;
  /** To the clients subscribed to a container. */
  subscribers(containerId: string, event: string, data: unknown): void;
}

export interface FlowServer extends Broadcaster {
  /** Connected, authenticated clients. */
  clients(): number;
  listening(): boolean;
  close(): Promise<void>;
}

const room = (containerId: string) => `container:${containerId}`;

/** The page's own origins: the listen address, and the loopback names when it is loopback. */
function ownOrigins(listen: ListenAddress): string[] {
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  const loopback = ["127.0.0.1", "::1", "localhost"].includes(listen.host);
  const names = loopback ? ["127.0.0.1", "localhost", "[::1]"] : [host];
  return names.map((name) => `http://${name}:${listen.port}`);
}

const pageHeaders = {
  "content-type": "text/html; charset=utf-8",
  // The page's own script and style (by hash) and nothing else; it talks only to this server; no framing.
  "content-security-policy": `${pageContentSecurityPolicy()}; frame-ancestors 'none'`,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function isRequest(name: string): name is RequestName {
  return (requestNames as string[]).includes(name);
}

/** A Socket.IO connection as the handlers see it. */
function sessionOf(socket: Socket): Session {
  return {
    join: (id) => void socket.join(room(id)),
    leave: (id) => void socket.leave(room(id)),
    send: (event, data) => void socket.emit(event, data),
    onClose: (stop) => {
      socket.once("disconnect", stop);
      return () => void socket.off("disconnect", stop);
    },
    connected: () => socket.connected,
  };
}

/**
 * The HTTP server of `flow serve`: the page at `/`, Socket.IO v4 (WebSocket and long-polling) at
 * `/socket.io/`. Every connection presents the token (compared in constant time) or is refused
 * with connect_error "unauthorized"; a browser's Origin must be the page's own or an allowed one.
 * Every request is answered through its acknowledgement, in one of the two reply shapes.
 */
export async function startFlowServer(options: FlowServerOptions): Promise<FlowServer> {
  const { log, api } = options;
  const allowed = new Set([...ownOrigins(options.listen), ...options.allowedOrigins]);
  const wildcard = options.listen.host === "0.0.0.0" || options.listen.host === "::";
  const http: HttpServer = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if ((request.method === "GET" || request.method === "HEAD") && path === "/") {
      response.writeHead(200, pageHeaders).end(request.method === "HEAD" ? undefined : pageHtml());
    } else if (!path?.startsWith("/socket.io/")) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: the page is at /\n");
    }
  });
  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: maxFrameBytes,
    allowRequest: (request: IncomingMessage, callback) => {
      const origin = request.headers.origin;
      // Programs send no Origin; a browser's must be the page's own (or allowed), so another site cannot use a token it got.
      if (origin === undefined || allowed.has(origin)) return callback(null, true);
      // On a wildcard address the page's own origin is whatever name the browser used to reach it.
      if (wildcard && request.headers.host !== undefined && origin === `http://${request.headers.host}`) return callback(null, true);
      log.warn("refused a connection from another origin", { origin });
      callback("forbidden origin", false);
    },
  });
  io.use((socket, next) => {
    if (tokenMatches(socket.handshake.auth?.token, options.token)) return next();
    log.info("refused a connection without the right token", { address: socket.handshake.address });
    next(new Error("unauthorized"));
  });
  io.on("connection", (socket) => {
    log.debug("client connected", { id: socket.id, address: socket.handshake.address });
    const session = sessionOf(socket);
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack !== "function") return; // no acknowledgement: nowhere to answer
      const payload = args.length > 1 ? args[0] : undefined;
      // Never throws synchronously: every failure becomes a reply, none reaches the process.
      const run = Promise.resolve().then(() => {
        if (!isRequest(event)) throw new FlowError("validation_error", `unknown request ${JSON.stringify(event.slice(0, 64))}`, { request: event.slice(0, 64), known: requestNames });
        return api.handle(event, payload, session);
      });
      run.then(
        (data) => ack({ ok: true, data }),
        (error: unknown) => {
          const reply = errorReply(error);
          log.debug("request failed", { request: event.slice(0, 64), error_type: reply.error_type, message: reply.message });
          ack(reply);
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", (error) => reject(new DockernetError(`flow cannot listen on ${options.listen.host}:${options.listen.port}: ${error.message}`, { code: "LISTEN_FAILED", cause: error })));
    http.listen(options.listen.port, options.listen.host, () => resolve());
  });
  return {
    all: (event, data) => void io.emit(event, data),
    subscribers: (containerId, event, data) => void io.to(room(containerId)).emit(event, data),
    clients: () => io.of("/").sockets.size,
    listening: () => http.listening,
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      http.closeAllConnections?.();
    },
  };
}
