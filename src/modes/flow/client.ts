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

/** A connected, authenticated client; rejects with a clear error when refused or unreachable. */
export async function connectClient(config: FlowConfig, log: Logger): Promise<Socket> {
  const url = serverUrl(config);
  const token = await readToken(config.token_file, { create: false, log });
  const socket = io(url, { auth: { token }, transports: ["websocket", "polling"], reconnection: false, timeout: 10_000 });
  return await new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error: Error) => {
      socket.close();
      const refused = error.message === "unauthorized";
      reject(
        new DockernetError(refused ? `the flow server at ${url} refused the token from ${config.token_file}` : `cannot reach the flow server at ${url}: ${error.message}`, {
          code: refused ? "FLOW_UNAUTHORIZED" : "FLOW_UNREACHABLE",
          hint: refused ? "use the server's token file (--token-file)" : "is `dockernet flow serve` running? Check --url",
        }),
      );
    });
  });
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

/** `flow call REQUEST [PAYLOAD]`: prints the reply as JSON; 0 on success, 1 on an error reply. */
export async function runCall(options: { config: FlowConfig; log: Logger; request: string; payload: unknown; timeoutMs: number }): Promise<number> {
  const socket = await connectClient(options.config, options.log);
  try {
    const reply = (await socket.timeout(options.timeoutMs).emitWithAck(options.request, options.payload)) as { ok?: boolean };
    process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
    return reply?.ok === true ? ExitCode.ok : ExitCode.runtime;
  } catch (error) {
    const gone = !socket.connected;
    throw new DockernetError(gone ? `${options.request}: the server closed the connection before answering` : `${options.request}: no answer from the server within ${options.timeoutMs} ms`, {
      code: gone ? "FLOW_DISCONNECTED" : "FLOW_TIMEOUT",
      cause: error,
    });
  } finally {
    socket.close();
  }
}

/** `flow watch`: one JSON line per event until interrupted (or the server goes away: exit 1). */
export async function runWatch(options: { config: FlowConfig; log: Logger; container?: string; signal: AbortSignal }): Promise<number> {
  const socket = await connectClient(options.config, options.log);
  const print = (event: string) => (data: unknown) => process.stdout.write(`${JSON.stringify({ event, data })}\n`);
  for (const event of ["activity", "container_state", "container_message", "log"]) socket.on(event, print(event));
  if (options.container !== undefined) {
    const reply = (await socket.emitWithAck("subscribe", { container_id: options.container })) as { ok?: boolean; message?: string };
    if (reply?.ok !== true) {
      socket.close();
      process.stderr.write(`${JSON.stringify(reply, null, 2)}\n`);
      return ExitCode.runtime;
    }
  }
  return await new Promise((resolve) => {
    options.signal.addEventListener("abort", () => {
      socket.close();
      resolve(ExitCode.ok);
    }, { once: true });
    socket.once("disconnect", (reason) => {
      if (options.signal.aborted) return;
      options.log.error("the flow server closed the connection", { reason });
      resolve(ExitCode.runtime);
    });
  });
}
