/**
 * The manager's Socket.IO clients: who may connect (the token; a browser only from the page's own
 * origins or allowed ones) and what they are told (everyone, or those subscribed to a container).
 * Made before the parts that tell clients things, so none of them waits for the listener; nobody
 * is connected until `serve` attaches it to the HTTP server.
 */
import type { IncomingMessage, Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import type { ListenAddress } from "../../../core/listen.ts";
import type { Logger } from "../../../core/logger.ts";
import { maxFrameBytes } from "../protocol/frames.ts";
import { errorReply, FlowError } from "../protocol/replies.ts";
import { requestNames, type RequestName } from "../protocol/requests.ts";
import { tokenMatches } from "../protocol/token.ts";
import type { Session } from "./api.ts";
import { ClientBudget, type EngineConnection } from "./_client-budget.ts";
import { boundRecoveryStore, recoveryWindowMs } from "./_recovery-store.ts";

/** What the rest of the manager sends to clients. */
export interface Broadcaster {
  /** To every authenticated client. */
  all(event: string, data: unknown): void;
  /**
   * To the clients subscribed to a container, within each one's budget (see ClientBudget); the
   * event is made (`make`) only when someone gets it, so a flood to slow readers costs little.
   */
  subscribers(container: { id: string; name: string }, event: "container_message", make: () => unknown): void;
}

/** What answers the clients' requests (the API). */
export interface RequestHandler {
  handle(request: RequestName, payload: unknown, session: Session): Promise<unknown>;
}

export interface ClientsOptions {
  listen: ListenAddress;
  token: string;
  /** Origins allowed beside the page the server itself serves. */
  allowedOrigins: readonly string[];
  log: Logger;
}

const room = (containerId: string) => `container:${containerId}`;

/** The page's own origins: the listen address, and the loopback names when it is loopback. */
function ownOrigins(listen: ListenAddress): string[] {
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  const loopback = ["127.0.0.1", "::1", "localhost"].includes(listen.host);
  const names = loopback ? ["127.0.0.1", "localhost", "[::1]"] : [host];
  return names.map((name) => `http://${name}:${listen.port}`);
}

function isRequest(name: string): name is RequestName {
  return (requestNames as string[]).includes(name);
}

/** A Socket.IO connection as the handlers see it. */
function sessionOf(socket: Socket, budget: ClientBudget): Session {
  return {
    join: (id) => void socket.join(room(id)),
    leave: (id) => void socket.leave(room(id)),
    sendLog: (container, data) => {
      if (budget.over) budget.drop(container, "log");
      else socket.emit("log", data);
    },
    onClose: (stop) => {
      socket.once("disconnect", stop);
      return () => void socket.off("disconnect", stop);
    },
    connected: () => socket.connected,
  };
}

/** The clients of one manager; closed (every client disconnected) on dispose. */
export class FlowClients implements Broadcaster, AsyncDisposable {
  readonly #io: Server;
  readonly #log: Logger;
  /** Per connected client (by socket id): what is queued to it. */
  readonly #budgets = new Map<string, ClientBudget>();
  /** Container rooms of clients gone within the recovery window, until when they may come back. */
  readonly #away = new Map<string, number>();
  #served = false;

  constructor(options: ClientsOptions) {
    const { log, listen } = options;
    this.#log = log;
    const allowed = new Set([...ownOrigins(listen), ...options.allowedOrigins]);
    const wildcard = listen.host === "0.0.0.0" || listen.host === "::";
    this.#io = new Server({
      serveClient: false,
      maxHttpBufferSize: maxFrameBytes,
      // A client that comes back within the window gets its rooms and the events it missed;
      // the token is checked again all the same (the middlewares run).
      connectionStateRecovery: { maxDisconnectionDuration: recoveryWindowMs, skipMiddlewares: false },
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
    boundRecoveryStore(this.#io.of("/").adapter);
    this.#io.use((socket, next) => {
      if (tokenMatches(socket.handshake.auth?.token, options.token)) return next();
      log.info("refused a connection without the right token", { address: socket.handshake.address });
      next(new Error("unauthorized"));
    });
  }

  all(event: string, data: unknown): void {
    this.#io.emit(event, data);
  }

  subscribers(container: { id: string; name: string }, event: "container_message", make: () => unknown): void {
    const members = this.#io.of("/").adapter.rooms.get(room(container.id)) ?? new Set<string>();
    // One broadcast (encoded once) to those within their budget; the others are told later.
    const over: string[] = [];
    for (const socketId of members) {
      const budget = this.#budgets.get(socketId);
      if (budget?.over) {
        budget.drop(container, event);
        over.push(socketId);
      }
    }
    // Nobody to send it to, now or when they come back: no cost (a flood to slow readers is dropped here).
    const away = (this.#away.get(room(container.id)) ?? 0) > Date.now();
    if (over.length === members.size && !away) return;
    // Also with nobody present but a subscriber away: it gets the event when it comes back.
    const to = this.#io.to(room(container.id));
    (over.length === 0 ? to : to.except(over)).emit(event, make());
  }

  /** Connected, authenticated clients. */
  count(): number {
    return this.#io.of("/").sockets.size;
  }

  /**
   * Takes Socket.IO connections on `http` (at `/socket.io/`). Every request is answered through
   * its acknowledgement, in one of the two reply shapes; one without an acknowledgement is dropped.
   */
  serve(http: HttpServer, api: RequestHandler): void {
    this.#io.attach(http);
    this.#served = true;
    this.#io.on("connection", (socket) => {
      this.#log.debug(socket.recovered ? "client reconnected (its rooms and missed events recovered)" : "client connected", { id: socket.id, address: socket.handshake.address });
      const budget = new ClientBudget(socket.conn as unknown as EngineConnection, (notice) => {
        this.#log.info("a client reads too slowly: some of its events were dropped", { id: socket.id, containers: notice.containers.length });
        socket.emit("dropped", notice);
      });
      this.#budgets.set(socket.id, budget);
      socket.once("disconnecting", () => {
        const now = Date.now();
        for (const [joined, until] of this.#away) if (until <= now) this.#away.delete(joined);
        for (const joined of socket.rooms) if (joined.startsWith("container:")) this.#away.set(joined, now + recoveryWindowMs);
      });
      socket.once("disconnect", () => {
        budget.close();
        if (this.#budgets.get(socket.id) === budget) this.#budgets.delete(socket.id);
      });
      const session = sessionOf(socket, budget);
      socket.onAny((event: string, ...args: unknown[]) => {
        const ack = args.at(-1);
        if (typeof ack !== "function") return;
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
            this.#log.debug("request failed", { request: event.slice(0, 64), error_type: reply.error_type, message: reply.message });
            ack(reply);
          },
        );
      });
    });
  }

  /** Disconnects every client and closes the HTTP server it serves on. */
  async [Symbol.asyncDispose](): Promise<void> {
    // Never attached: Socket.IO has no engine to close yet.
    if (!this.#served) return;
    this.#io.disconnectSockets(true);
    await new Promise<void>((resolve) => this.#io.close(() => resolve()));
  }
}
