import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { DockernetError, errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { listenPrivately } from "../../../net/private-socket.ts";
import type { ActivityClock } from "./activity.ts";
import { relayWhenOpen } from "./_pipe.ts";
import type { BridgeWarnings } from "./warnings.ts";
import { createSniffer, type CreateRequest } from "./_sniff.ts";

export interface RelayOptions {
  /** The local socket (created 0600). */
  path: string;
  /** A channel to the remote engine's socket; waits for the SSH link up to connect_timeout, then rejects. */
  open(signal: AbortSignal): Promise<Duplex>;
  activity: ActivityClock;
  log: Logger;
  /** Where a bind mount of a local path is kept for `bridge status` (besides the log). */
  warnings?: BridgeWarnings;
}

export interface Relay {
  /** Bytes relayed, both ways, since start. */
  bytes(): number;
  close(): Promise<void>;
}

/**
 * The local Docker socket: each connection becomes one channel to the remote engine's socket,
 * its bytes relayed untouched both ways with half-close kept (see relayPair). A containers/create
 * with bind mounts of paths that exist on this machine is relayed too, with a warning.
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { log, activity } = options;
  const sockets = new Set<Socket>();
  let total = 0;
  let created = 0;
  const warnBinds = (request: CreateRequest) => {
    const local = request.binds.filter((path) => existsSync(path));
    if (local.length === 0) return;
    // Docker names an unnamed container only in its answer, which is not read: the image says which one it is.
    const container = request.name ?? `(unnamed, image ${request.image ?? "?"})`;
    log.warn("bind mount of a local path: the remote engine mounts that path on the remote host, not this machine's", { container, paths: local });
    options.warnings?.set(`bind:${++created}`, { container, message: `bind mount of ${local.join(", ")}: mounted from the remote host, not from this machine` });
  };
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    const closed = activity.opened();
    // A client that resets while it waits for the link must not take the process down.
    socket.on("error", (error) => log.debug("Docker client connection failed", { error: error.message }));
    relayWhenOpen(socket, options.open, {
      onBytes: (count) => {
        total += count;
        activity.touch();
      },
      onClientData: createSniffer(warnBinds),
      onFailed: (error) => log.error("Docker connection closed: the remote engine is not reachable", { reason: errorMessage(error) }),
      onClose: () => {
        sockets.delete(socket);
        closed();
      },
    });
  };
  // allowHalfOpen: the client's end of its request must not end our answer (it would lose `docker run`'s output).
  const server: Server = createServer({ allowHalfOpen: true }, onConnection);
  // Private from the first instant (bound 0600 in a 0700 directory, then renamed): it reaches root on the server.
  await listenPrivately(server, options.path, "the bridge socket").catch((error: unknown) => {
    if (error instanceof DockernetError) throw error;
    throw new DockernetError(`cannot listen on ${options.path}: ${errorMessage(error)}`, { code: "BRIDGE_SOCKET", cause: error });
  });
  // After listening, an accept error (EMFILE under load) is logged, never left unhandled.
  server.on("error", (error) => log.error("the bridge socket failed to accept a connection", { error: error.message }));
  return {
    bytes: () => total,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(options.path, { force: true });
    },
  };
}
