/**
 * A TCP proxy in front of the flow server that passes what the server sends on at `bytesPerSecond`
 * and no faster: a client behind it reads slowly for real (the kernel's buffers fill and the
 * server's own queue for it grows), as a client on a poor link does.
 *
 * ```ts
 * await using slow = await SlowReader.start(flow.port, 64 * 1024);
 * const client = await connect(slow.url, flow.token);
 * ```
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class SlowReader implements AsyncDisposable {
  private constructor(
    readonly server: Server,
    readonly url: string,
    readonly sockets: Set<Socket>,
    readonly rate: { bytesPerSecond: number },
    readonly counts: { bytes: number },
    readonly upstreams: Set<Socket>,
  ) {}

  /** Bytes passed on to the client so far. */
  get bytes(): number {
    return this.counts.bytes;
  }

  /** Reads at another pace from now on (`Infinity`: as fast as the client takes it, at once). */
  setRate(bytesPerSecond: number): void {
    this.rate.bytesPerSecond = bytesPerSecond;
    // A pause for the last chunk's share of the old rate may have seconds to run (a big chunk).
    if (bytesPerSecond === Infinity) for (const upstream of this.upstreams) upstream.resume();
  }

  static async start(targetPort: number, bytesPerSecond: number): Promise<SlowReader> {
    const rate = { bytesPerSecond };
    const counts = { bytes: 0 };
    const sockets = new Set<Socket>();
    const upstreams = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = createConnection(targetPort, "127.0.0.1");
      upstreams.add(upstream);
      upstream.on("close", () => upstreams.delete(upstream));
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.on("data", (chunk: Buffer) => {
        client.write(chunk);
        counts.bytes += chunk.length;
        // Read no more until this chunk's share of the rate has passed.
        if (rate.bytesPerSecond === Infinity) return;
        upstream.pause();
        setTimeout(() => upstream.resume(), Math.ceil((chunk.length / rate.bytesPerSecond) * 1000));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    return new SlowReader(server, `http://127.0.0.1:${port}`, sockets, rate, counts, upstreams);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
