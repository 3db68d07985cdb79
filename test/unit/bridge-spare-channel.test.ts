// A channel opened ahead of the next client (src/modes/bridge/link/spare-channel.ts), over the real
// engine dialer and a link whose channels the test makes (the dialer's own tests: bridge-engine-dial).
import { describe, expect, test } from "bun:test";
import { Duplex, PassThrough } from "node:stream";
import { engineDialer, type DialableLink } from "../../src/modes/bridge/link/engine-dial.ts";
import { SpareChannel } from "../../src/modes/bridge/link/spare-channel.ts";
import { SshErrorCode } from "../../src/ssh/connection.ts";
import { sshError } from "../../src/ssh/_errors.ts";
import { fakeLogger } from "../support/fake-logger.ts";

/** A channel as the server's side of it: what the client writes is swallowed; `push` is the server's answer. */
const serverChannel = () => new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });

function fakeLink(options: { refuseStreamLocal?: boolean } = {}) {
  const opened: Duplex[] = [];
  const sessions: PassThrough[] = [];
  const link: DialableLink = {
    async openUnixSocket(): Promise<Duplex> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (options.refuseStreamLocal) throw sshError(SshErrorCode.streamLocalRefused, "refused");
      const stream = serverChannel();
      opened.push(stream);
      return stream;
    },
    async dialStdio(): Promise<Duplex> {
      const stream = new PassThrough();
      sessions.push(stream);
      return stream;
    },
  };
  return { link, opened, sessions };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("a channel opened ahead of the next client", () => {
  test("the second client gets the channel opened while the first was served; one spare waits at a time", async () => {
    const spare = new SpareChannel(engineDialer({ remoteSocket: "/var/run/docker.sock", log: fakeLogger() }));
    const { link, opened } = fakeLink();
    const first = await spare.take(link); // decides stream-local; nothing was ahead of it
    await tick();
    expect(opened).toHaveLength(2); // the first's, and the spare
    const second = await spare.take(link);
    expect(second).toBe(opened[1]!);
    expect(first).toBe(opened[0]!);
    await tick();
    expect(opened).toHaveLength(3);
    spare.close();
    await tick();
    expect(opened[2]!.destroyed).toBe(true);
  });

  test("a taken spare is replaced once the server answers its client, not while the request goes out", async () => {
    const spare = new SpareChannel(engineDialer({ remoteSocket: "/var/run/docker.sock", log: fakeLogger() }));
    const { link, opened } = fakeLink();
    await spare.take(link);
    await tick();
    expect(opened).toHaveLength(2);
    const channel = await spare.take(link);
    expect(channel).toBe(opened[1]!);
    // As the relay does: the client's bytes flow to the channel and the channel's to the client.
    const client = new PassThrough();
    channel.pipe(client);
    client.resume();
    channel.write("GET /_ping HTTP/1.0\r\n\r\n");
    await tick();
    expect(opened).toHaveLength(2); // no channel open beside the request
    opened[1]!.push("HTTP/1.0 200 OK\r\n\r\nOK");
    await tick();
    expect(opened).toHaveLength(3); // the answer began: the next client's is opened
    spare.close();
  });

  test("a spare that went away meanwhile is not handed out: the client gets a fresh channel", async () => {
    const spare = new SpareChannel(engineDialer({ remoteSocket: "/var/run/docker.sock", log: fakeLogger() }));
    const { link, opened } = fakeLink();
    await spare.take(link);
    await tick();
    opened[1]!.destroy(new Error("dockerd restarted"));
    await tick();
    const next = await spare.take(link);
    expect(next).not.toBe(opened[1]!);
    expect(next.destroyed).toBe(false);
    spare.close();
  });

  test("after a burst of clients that waited together, as many spares wait ahead of the next burst", async () => {
    const spare = new SpareChannel(engineDialer({ remoteSocket: "/var/run/docker.sock", log: fakeLogger() }));
    const { link, opened } = fakeLink();
    await spare.take(link);
    await tick();
    const first = await Promise.all(Array.from({ length: 6 }, () => spare.take(link)));
    expect(new Set(first).size).toBe(6);
    await tick();
    const waiting = opened.filter((stream) => !first.includes(stream) && stream !== opened[0]);
    expect(waiting.length).toBeGreaterThanOrEqual(5); // the burst's size, less the ones the burst itself took
    const second = await Promise.all(Array.from({ length: waiting.length }, () => spare.take(link)));
    expect(second).toEqual(waiting); // all opened ahead, none dialled on demand
    spare.close();
    await tick();
    expect(opened.filter((stream) => !stream.destroyed).length).toBe(1 + first.length + second.length);
  });

  test("a burst's spares go back to one after a quiet while; a client meanwhile moves that later", async () => {
    const spare = new SpareChannel(engineDialer({ remoteSocket: "/var/run/docker.sock", log: fakeLogger() }), { shrinkAfterMs: 600 });
    const { link, opened } = fakeLink();
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await spare.take(link);
    await tick();
    const burst = await Promise.all(Array.from({ length: 6 }, () => spare.take(link)));
    await tick();
    const ahead = () => opened.filter((stream) => !stream.destroyed && !burst.includes(stream) && stream !== opened[0]);
    expect(ahead().length).toBeGreaterThanOrEqual(5);
    await sleep(250);
    // Well before the burst's quiet while ends: it starts again from this client.
    const late = await spare.take(link);
    // Past the end of the burst's quiet while, before this client's: timers fire in order, so
    // this check always runs before the shrink it moved, however loaded the machine.
    await sleep(450);
    expect(ahead().filter((stream) => stream !== late).length).toBeGreaterThanOrEqual(4);
    await sleep(300);
    const kept = ahead().filter((stream) => stream !== late);
    expect(kept).toHaveLength(1);
    // The next client takes the one kept, and one waits ahead of it again.
    expect(await spare.take(link)).toBe(kept[0]!);
    await tick();
    expect(ahead().filter((stream) => stream !== late && stream !== kept[0])).toHaveLength(1);
    spare.close();
  });

  test("with dial-stdio no spare is opened (it would hold one of MaxSessions)", async () => {
    const spare = new SpareChannel(engineDialer({ remoteSocket: "/var/run/docker.sock", log: fakeLogger() }));
    const { link, sessions } = fakeLink({ refuseStreamLocal: true });
    await spare.take(link);
    await spare.take(link);
    await tick();
    expect(sessions).toHaveLength(2);
    spare.close();
  });
});
