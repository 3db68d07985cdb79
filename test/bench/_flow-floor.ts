/**
 * The floor of a flow `send_message`: the same parts with nothing else. A bare Socket.IO server
 * (one process, this runtime) that relays each `send_message` as one NDJSON request over a Unix
 * socket to the agent connected there, and acknowledges with its answer. No token, no lookups,
 * no validation, no budgets.
 * Usage: bun test/bench/_flow-floor.ts PORT SOCKET_PATH   (prints "listening" once both listen,
 * "agent connected" when an agent connects)
 */
import { createServer as createHttp } from "node:http";
import { createServer, type Socket as NetSocket } from "node:net";
import { Server } from "socket.io";

const [port = "0", socketPath = ""] = process.argv.slice(2);
let agent: NetSocket | undefined;
const pending = new Map<string, (data: unknown) => void>();
let next = 0;
const channel = createServer((socket) => {
  agent = socket;
  console.log("agent connected");
  let buffer = "";
  socket.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    let end = buffer.indexOf("\n");
    while (end !== -1) {
      const frame = JSON.parse(buffer.slice(0, end)) as { id?: string; type: string; data?: unknown };
      buffer = buffer.slice(end + 1);
      if (frame.type === "response" && frame.id !== undefined) pending.get(frame.id)?.(frame.data);
      pending.delete(frame.id ?? "");
      end = buffer.indexOf("\n");
    }
  });
});
await new Promise<void>((resolve) => channel.listen(socketPath, resolve));
const http = createHttp();
const io = new Server(http, { serveClient: false });
io.on("connection", (client) => {
  client.on("send_message", (payload: { message: { command: string; data?: unknown } }, ack: (reply: unknown) => void) => {
    const id = String(++next);
    pending.set(id, (data) => ack({ ok: true, data }));
    agent?.write(`${JSON.stringify({ id, type: "request", command: payload.message.command, data: payload.message.data ?? {} })}\n`);
  });
});
await new Promise<void>((resolve) => http.listen(Number(port), "127.0.0.1", resolve));
console.log("listening");
