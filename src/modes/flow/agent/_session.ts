/** One connection of the agent to the manager: opening it, and reading its frames until it ends. */
import { createConnection, type Socket } from "node:net";
import type { Logger } from "../../../core/logger.ts";
import { FrameReader } from "../protocol/frame-reader.ts";
import type { Frame } from "../protocol/frames.ts";

/** Connects to a Unix socket; rejects with the connect error (ENOENT, ECONNREFUSED...). */
export function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

export interface SessionContext {
  log: Logger;
  /** Told of each request (and any other valid frame) from the manager. */
  handle(frame: Frame): void;
  send(frame: Frame): void;
  signal: AbortSignal;
}

/** Reads frames from one connection until it closes; on `signal`, ends it after what was written is flushed. */
export function serve(socket: Socket, context: SessionContext): Promise<void> {
  const { log, handle, send, signal } = context;
  const reader = new FrameReader();
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      socket.end();
      timer = setTimeout(() => socket.destroy(), 1000);
    };
    socket.on("data", (chunk: Buffer) => {
      for (const item of reader.push(chunk)) {
        if (item.kind === "frame") handle(item.frame);
        else if (item.kind === "invalid") {
          log.debug("malformed frame from the manager", { error: item.error });
          if (item.id !== undefined) send({ id: item.id, type: "response", error: item.error.message });
        } else {
          log.warn("dropping the connection: frame too long", { error: item.error });
          socket.destroy();
          return;
        }
      }
    });
    socket.on("error", (error) => log.debug("flow socket error", { error }));
    socket.on("close", () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
