/**
 * One agent's connection to the manager: writes requests, matches responses to them by id, hands
 * events on, and refuses what the container may not send.
 */
import type { Socket } from "node:net";
import type { Logger } from "../../../core/logger.ts";
import { FrameReader, readLine } from "../protocol/frame-reader.ts";
import { encodeFrame, type Frame } from "../protocol/frames.ts";
import type { LineItem } from "../protocol/line-splitter.ts";
import { RateGate } from "./_rate-gate.ts";

/** What may wait unread in the write buffer of one agent connection before it is dropped (8 MiB). */
const maxUnreadBytes = 8 * 1024 * 1024;
/**
 * What one container may make the manager read, per second (1 MiB, with a burst of 2 MiB so a
 * frame of the full 1 MiB passes at once). A flooding container is read at this pace and no
 * faster; the rest waits in the kernel and then in its agent, which stops reading its command.
 */
export const agentBytesPerSecond = 1024 * 1024;
/** Lines decoded and handled in one turn of the event loop before others get theirs. */
const framesPerTurn = 16;

export type ChannelErrorKind = "not_connected" | "timeout" | "socket_error" | "remote_error";

/** Why a request to a container failed. */
export class ChannelError extends Error {
  readonly kind: ChannelErrorKind;

  constructor(kind: ChannelErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "ChannelError";
    this.kind = kind;
  }
}

interface Pending {
  command: string;
  resolve(data: unknown): void;
  reject(error: ChannelError): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface ConnectionOptions {
  /** The container's short ID, for messages. */
  name: string;
  log: Logger;
  /** Told of every frame in or out (for `last_communication`). */
  onActivity(): void;
  onEvent(command: string, data: unknown): void;
  /** Told once, when the socket is gone for whatever reason. */
  onClose(): void;
}

export class AgentConnection {
  readonly #socket: Socket;
  readonly #options: ConnectionOptions;
  readonly #reader = new FrameReader();
  readonly #pending = new Map<string, Pending>();
  readonly #gate = new RateGate(agentBytesPerSecond, 2 * agentBytesPerSecond);
  /**
   * Lines read and not handled yet (at most one chunk's worth, from `#next` on): decoded a turn's
   * worth at a time, so a chunk of a flood never holds the event loop whole.
   */
  #backlog: LineItem[] = [];
  #next = 0;
  #resumeTimer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  #closed = false;

  constructor(socket: Socket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    socket.on("data", (chunk: Buffer) => this.#receive(chunk));
    socket.on("error", (error) => options.log.debug("agent socket error", { container: options.name, error }));
    socket.on("close", () => this.#gone("the agent's connection was lost"));
  }

  /** Writes a request with the given id; settles with the answer, a timeout or the connection's loss. */
  request(id: string, command: string, data: unknown, timeoutMs: number): Promise<unknown> {
    let line: string;
    try {
      line = encodeFrame({ id, type: "request", command, data });
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ChannelError("timeout", `container ${this.#options.name} did not answer ${JSON.stringify(command)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { command, resolve, reject, timer });
      this.#write(line);
    });
  }

  /** Drops the connection; requests still waiting fail with `socket_error`. */
  close(reason: string): void {
    this.#gone(reason);
    this.#socket.destroy();
  }

  #write(line: string): void {
    if (this.#socket.destroyed) return;
    // A container that sends but never reads must not grow our write buffer without bound.
    if (this.#socket.writableLength > maxUnreadBytes) {
      this.#options.log.warn("a container's agent does not read what the manager sends: dropping the connection", { container: this.#options.name });
      this.close("the agent does not read its socket");
      return;
    }
    this.#socket.write(line);
    this.#options.onActivity();
  }

  #send(frame: Frame): void {
    this.#write(encodeFrame(frame));
  }

  #receive(chunk: Buffer): void {
    this.#gate.take(chunk.length);
    const lines = this.#reader.lines(chunk);
    // The socket reads on only once the backlog is done; a chunk that came in between joins it.
    this.#backlog = this.#next < this.#backlog.length ? this.#backlog.slice(this.#next).concat(lines) : lines;
    this.#next = 0;
    // A pump already waits (its turn, or the rate): the new lines wait with it.
    if (this.#resumeTimer === undefined) this.#pump();
  }

  /**
   * Handles a slice of the backlog, then lets the event loop serve others (other containers,
   * clients) before the next; reads on only once the backlog is done and the rate allows.
   */
  #pump(): void {
    this.#resumeTimer = undefined;
    if (this.#closed) return;
    const end = Math.min(this.#backlog.length, this.#next + framesPerTurn);
    const slice = this.#backlog.slice(this.#next, end);
    this.#next = end;
    this.#handleItems(slice);
    if (this.#closed) return;
    if (this.#next < this.#backlog.length) {
      this.#socket.pause();
      this.#resumeTimer = setImmediate(() => this.#pump());
      return;
    }
    const waitMs = this.#gate.waitMs();
    if (waitMs === 0) {
      this.#socket.resume();
      return;
    }
    this.#socket.pause();
    this.#resumeTimer = setTimeout(() => this.#pump(), waitMs);
  }

  #handleItems(lines: LineItem[]): void {
    const { log, name } = this.#options;
    for (const line of lines) {
      if (this.#closed) return;
      const item = readLine(line);
      if (item === undefined) continue;
      if (item.kind === "overflow") {
        // Nothing after an over-long line can be trusted to start a frame: drop the peer.
        log.warn("dropping an agent connection: frame too long", { container: name, error: item.error });
        this.close(item.error.message);
        return;
      }
      this.#options.onActivity();
      if (item.kind === "invalid") {
        log.debug("malformed frame from a container", { container: name, error: item.error });
        // A malformed reply still fails its request at once rather than at its timeout.
        const pending = item.id === undefined ? undefined : this.#take(item.id);
        if (pending) pending.reject(new ChannelError("remote_error", `the container's reply was malformed: ${item.error.message}`));
        else if (item.id !== undefined) this.#send({ id: item.id, type: "response", error: item.error.message });
        continue;
      }
      this.#handle(item.frame);
    }
  }

  #handle(frame: Frame): void {
    if (frame.type === "request") {
      // Answered briefly (the id is not echoed past a sane length): the manager takes no requests.
      if ((frame.id?.length ?? 0) <= 256) this.#send({ id: frame.id, type: "response", error: "the manager takes no requests" });
    } else if (frame.type === "event") {
      try {
        this.#options.onEvent(frame.command as string, frame.data);
      } catch (error) {
        // A failing listener is the manager's bug, not the container's: keep the connection.
        this.#options.log.warn("a flow event handler failed", { container: this.#options.name, error });
      }
    } else {
      const pending = this.#take(frame.id as string);
      if (!pending) {
        this.#options.log.debug("a reply to no waiting request (late or unknown id)", { container: this.#options.name, id: frame.id });
        return;
      }
      if (frame.error !== undefined) pending.reject(new ChannelError("remote_error", frame.error));
      else pending.resolve(frame.data ?? null);
    }
  }

  /** The waiting request with this id, no longer waiting. */
  #take(id: string): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  #gone(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#backlog = [];
    this.#next = 0;
    clearTimeout(this.#resumeTimer as ReturnType<typeof setTimeout>);
    clearImmediate(this.#resumeTimer as ReturnType<typeof setImmediate>);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ChannelError("socket_error", `container ${this.#options.name}: ${reason} while waiting for ${JSON.stringify(pending.command)}`));
      this.#pending.delete(id);
    }
    this.#options.onClose();
  }
}
