// The SSH socket's writes of one event-loop turn go out in one system call (src/ssh/_batched-socket.ts),
// over a real loopback TCP connection.
import { afterEach, describe, expect, test } from "bun:test";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { batchWrites } from "../../src/ssh/_batched-socket.ts";

let server: Server | undefined;
afterEach(() => void server?.close());

/** A connected client socket with batched writes, and everything the server side receives. */
async function pair(): Promise<{ client: Socket; received: Promise<Buffer> }> {
  let resolveReceived: (data: Buffer) => void = () => {};
  const received = new Promise<Buffer>((resolve) => (resolveReceived = resolve));
  server = createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => resolveReceived(Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const client = connect({ host: "127.0.0.1", port: (server!.address() as AddressInfo).port });
  await new Promise((resolve) => client.once("connect", resolve));
  client.setNoDelay(true);
  batchWrites(client);
  return { client, received };
}

describe("writes to the SSH socket, batched per event-loop turn", () => {
  test("the parts written in one turn are held until the turn ends, then all sent, in order", async () => {
    const { client, received } = await pair();
    client.write(Buffer.from("len."));
    client.write(Buffer.from("ciphertext."));
    client.write(Buffer.from("tag"));
    // Unbatched, Bun sends each write at once and nothing stays buffered.
    expect(client.writableLength).toBe(18);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.writableLength).toBe(0);
    client.write("next turn");
    client.end();
    expect((await received).toString()).toBe("len.ciphertext.tagnext turn");
  });

  test("end() right after a write sends what the turn held", async () => {
    const { client, received } = await pair();
    client.write("last packet");
    client.end();
    expect((await received).toString()).toBe("last packet");
  });
});
