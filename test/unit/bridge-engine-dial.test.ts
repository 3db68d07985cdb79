// How the bridge reaches the remote engine over a link (engineDialer in src/modes/bridge/link/engine-dial.ts):
// stream-local channels, or `docker system dial-stdio` when the server refuses them, decided once
// per link. The link is a small object with the two SshLink methods the dialer calls (DialableLink), each
// answering as the test says; the dialer's decision is what is under test.
import { describe, expect, test } from "bun:test";
import { PassThrough, type Duplex } from "node:stream";
import { engineDialer, type DialableLink } from "../../src/modes/bridge/link/engine-dial.ts";
import { SshErrorCode } from "../../src/ssh/connection.ts";
import { sshError } from "../../src/ssh/_errors.ts";
import { fakeLogger } from "../support/fake-logger.ts";


const refused = () => sshError(SshErrorCode.streamLocalRefused, "root@server:22 refused a stream-local channel to /var/run/docker.sock: open failed");

/** A link whose stream-local channels answer in turn from `answers` ("ok" or an error), and whose dial-stdio always works. */
function fakeLink(answers: ("ok" | Error)[]) {
  const opened: string[] = [];
  const link: DialableLink = {
    async openUnixSocket(path: string): Promise<Duplex> {
      const answer = answers.shift() ?? "ok";
      opened.push(`stream-local ${path}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (answer instanceof Error) throw answer;
      return new PassThrough();
    },
    async dialStdio(path: string): Promise<Duplex> {
      opened.push(`dial-stdio ${path}`);
      return new PassThrough();
    },
  };
  return { link, opened };
}

const path = "/var/run/docker.sock";

describe("reaching the engine over a link", () => {
  test("a stream-local channel refused at runtime is that connection's error: the link keeps stream-local", async () => {
    const log = fakeLogger();
    const dial = engineDialer({ remoteSocket: path, log });
    const { link, opened } = fakeLink(["ok", refused(), "ok"]);
    await dial(link);
    await expect(dial(link)).rejects.toMatchObject({ code: SshErrorCode.streamLocalRefused }); // dockerd restarting
    await dial(link);
    expect(opened).toEqual([`stream-local ${path}`, `stream-local ${path}`, `stream-local ${path}`]);
    expect(log.lines.filter((line) => line.level === "warn")).toEqual([]);
  });

  test("a link whose first channel is refused uses dial-stdio for all its connections, with one warning", async () => {
    const log = fakeLogger();
    const dial = engineDialer({ remoteSocket: path, log });
    const { link, opened } = fakeLink([refused()]);
    await Promise.all([dial(link), dial(link), dial(link)]);
    await dial(link);
    expect(opened).toEqual([`stream-local ${path}`, ...Array(4).fill(`dial-stdio ${path}`)]);
    expect(log.lines.filter((line) => line.level === "warn").map((line) => line.message)).toEqual(["the server refuses stream-local forwarding: using `docker system dial-stdio` instead"]);
  });

  test("each new link decides again: a server that allows stream-local after a reconnect gets stream-local back", async () => {
    const log = fakeLogger();
    const dial = engineDialer({ remoteSocket: path, log });
    const before = fakeLink([refused()]);
    await dial(before.link);
    await dial(before.link);
    const after = fakeLink([]);
    await dial(after.link);
    await dial(after.link);
    expect(before.opened).toEqual([`stream-local ${path}`, `dial-stdio ${path}`, `dial-stdio ${path}`]);
    expect(after.opened).toEqual([`stream-local ${path}`, `stream-local ${path}`]);
    expect(log.lines.map((line) => line.message)).toContain("the server allows stream-local forwarding again");
  });

  test("a first channel that fails for another reason (no socket there) is that connection's error; stream-local stays", async () => {
    const dial = engineDialer({ remoteSocket: path, log: fakeLogger() });
    const missing = sshError(SshErrorCode.remoteSocketMissing, `no Unix socket at ${path} on root@server:22`);
    const { link, opened } = fakeLink([missing, "ok"]);
    await expect(dial(link)).rejects.toMatchObject({ code: SshErrorCode.remoteSocketMissing });
    await dial(link);
    expect(opened).toEqual([`stream-local ${path}`, `stream-local ${path}`]);
  });
});

describe("a server that never answers the first channel", () => {
  test("the decision holds connections no longer than its own timeout; the next connection decides anew", async () => {
    const log = fakeLogger();
    const dial = engineDialer({ remoteSocket: path, log, decideTimeoutMs: 100 });
    let hang = true;
    const link: DialableLink = {
      openUnixSocket: () => (hang ? new Promise<Duplex>(() => {}) : Promise.resolve(new PassThrough())),
      dialStdio: async () => new PassThrough(),
    };
    const started = performance.now();
    const results = await Promise.allSettled([dial(link), dial(link), dial(link)]);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(results.map((result) => (result.status === "rejected" ? (result.reason as { code?: string }).code : "ok"))).toEqual(["BRIDGE_DIAL_UNDECIDED", "BRIDGE_DIAL_UNDECIDED", "BRIDGE_DIAL_UNDECIDED"]);
    hang = false;
    expect(await dial(link)).toBeInstanceOf(PassThrough);
  });
});
