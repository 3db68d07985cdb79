import { readFile } from "node:fs/promises";
import { io, type Socket } from "socket.io-client";
import { DockernetError, ExitCode, errorMessage, usageError } from "../../core/errors.ts";
import { parseListen } from "../../core/listen.ts";
import type { Logger } from "../../core/logger.ts";
import type { FlowConfig } from "./config.ts";
import { readToken } from "./protocol/token.ts";

/** Where the server is: `flow.url`, else http:// its `listen` address (a wildcard one reached on loopback). */
function serverUrl(config: FlowConfig): string {
  if (config.url !== "") return config.url;
  const { host, port } = parseListen(config.listen, "--listen");
  const reach = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reach.includes(":") ? `[${reach}]` : reach}:${port}`;
}

/**
 * call and watch do not find a running server by themselves: they read the same settings
 * serve does (flags, env, config file), so a server started with other paths needs them too.
 */
const sameSettings = "give flow call and watch the --token-file and --listen (or --url) that flow serve was started with, or set flow.token_file and flow.listen once in a config file (--config) that all three read";

/** The token call and watch present; its absence says which settings they share with serve. */
async function clientToken(config: FlowConfig, log: Logger): Promise<string> {
  try {
    return await readToken(config.token_file, { create: false, log });
  } catch (error) {
    if (!(error instanceof DockernetError) || error.code !== "FLOW_TOKEN") throw error;
    throw new DockernetError(error.message, { code: error.code, exitCode: error.exitCode, hint: sameSettings, cause: error });
  }
}

/** Opens `socket` once: resolves when connected, rejects with a clear error when refused or unreachable. */
export function connectOnce(socket: Socket, url: string, config: FlowConfig): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const onConnect = () => {
      socket.off("connect_error", onError);
      resolve(socket);
    };
    const onError = (error: Error) => {
      socket.off("connect", onConnect);
      const refused = error.message === "unauthorized";
      reject(
        new DockernetError(refused ? `the flow server at ${url} refused the token from ${config.token_file}` : `cannot reach the flow server at ${url}: ${error.message}`, {
          code: refused ? "FLOW_UNAUTHORIZED" : "FLOW_UNREACHABLE",
          hint: refused ? `use the server's token file (--token-file); ${sameSettings}` : `is \`dockernet flow serve\` running? ${sameSettings}`,
        }),
      );
    };
    socket.once("connect", onConnect);
    socket.once("connect_error", onError);
    socket.connect();
  });
}

/** A connected, authenticated client (and the server's URL); rejects with a clear error when refused or unreachable. */
export async function connectClient(config: FlowConfig, log: Logger): Promise<{ socket: Socket; url: string }> {
  const url = serverUrl(config);
  const token = await clientToken(config, log);
  const socket = io(url, { auth: { token }, transports: ["websocket", "polling"], reconnection: false, timeout: 10_000, autoConnect: false });
  try {
    return { socket: await connectOnce(socket, url, config), url };
  } catch (error) {
    socket.close();
    throw error;
  }
}

/** The payload of `flow call`: the JSON argument, or the file (`-`: stdin); none is `{}`. */
export async function readPayload(json: string | undefined, file: string | undefined): Promise<unknown> {
  if (json !== undefined && file !== undefined) throw usageError("give the payload as an argument or with --file, not both");
  const text = file === "-" ? await readStdin() : file !== undefined ? await readFile(file, "utf8").catch((error) => Promise.reject(usageError(`--file ${file}: ${errorMessage(error)}`))) : json;
  if (text === undefined || text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError(`the payload is not JSON: ${errorMessage(error)}`, `e.g. '{"container_id":"web-1"}'`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Whether a request asks the server to keep sending (`logs` with `follow`): call then prints what follows. */
function follows(request: string, payload: unknown): boolean {
  return request === "logs" && (payload as { follow?: unknown } | null)?.follow === true;
}

/**
 * `flow call REQUEST [PAYLOAD]`: prints the reply as JSON; 0 on success, 1 on an error reply.
 * `logs` with `follow` then prints each `log` event as one JSON line until interrupted (0) or the
 * server goes away (1), as `docker logs -f` does.
 */
export async function runCall(options: { config: FlowConfig; log: Logger; request: string; payload: unknown; timeoutMs: number; signal: AbortSignal }): Promise<number> {
  const { socket } = await connectClient(options.config, options.log);
  try {
    const following = follows(options.request, options.payload);
    if (following) socket.on("log", (data: unknown) => process.stdout.write(`${JSON.stringify({ event: "log", data })}\n`));
    // Ctrl-C while waiting for the answer ends the call at once (the signal handler would otherwise keep it waiting).
    const interrupted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new DockernetError(`${options.request}: interrupted before the server answered`, { code: "FLOW_INTERRUPTED" }));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener("abort", onAbort, { once: true });
    });
    interrupted.catch(() => {});
    const answer = socket.timeout(options.timeoutMs).emitWithAck(options.request, options.payload).catch((error: unknown) => {
      const gone = !socket.connected;
      throw new DockernetError(gone ? `${options.request}: the server closed the connection before answering` : `${options.request}: no answer from the server within ${options.timeoutMs} ms`, {
        code: gone ? "FLOW_DISCONNECTED" : "FLOW_TIMEOUT",
        cause: error,
      });
    });
    const reply = (await Promise.race([answer, interrupted])) as { ok?: boolean; data?: { following?: boolean } };
    process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
    if (reply?.ok !== true) return ExitCode.runtime;
    if (!following || reply.data?.following !== true) return ExitCode.ok;
    return await untilAbortedOrGone(socket, options.signal, options.log);
  } finally {
    socket.close();
  }
}

/** 0 when `signal` aborts (Ctrl-C), 1 when the server closes the connection first. */
function untilAbortedOrGone(socket: Socket, signal: AbortSignal, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(ExitCode.ok);
    signal.addEventListener("abort", () => resolve(ExitCode.ok), { once: true });
    socket.once("disconnect", (reason) => {
      if (signal.aborted) return;
      log.error("the flow server closed the connection", { reason });
      resolve(ExitCode.runtime);
    });
  });
}
