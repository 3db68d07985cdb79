import type { Duplex } from "node:stream";
import { DockernetError } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import { SshErrorCode, type SshLink } from "../../../ssh/connection.ts";

/** What the dialer uses of a link: an SshLink, or in tests anything with these two. */
export type DialableLink = Pick<SshLink, "openUnixSocket" | "dialStdio">;

/**
 * Opens a channel to the remote engine's socket over a link: stream-local, or `docker system
 * dial-stdio` when the server refuses stream-local forwarding. Decided once per link, by its first
 * channel (at start, and after each reconnect: the server may have changed). A later failure is
 * only that connection's error: OpenSSH answers "open failed" also when the socket itself refuses
 * (a dockerd that restarts), and that must not move a link that works to dial-stdio for good.
 */
/** The dialer, and what it decided for a link so far (`undefined`: not yet). */
export type EngineDialer = ((link: DialableLink) => Promise<Duplex>) & { decided(link: DialableLink): "stream-local" | "dial-stdio" | undefined };

export function engineDialer(options: { remoteSocket: string; log: Logger; decideTimeoutMs?: number }): EngineDialer {
  const { remoteSocket, log } = options;
  const decideTimeoutMs = options.decideTimeoutMs ?? 10_000;
  const decided = new WeakMap<DialableLink, Promise<"stream-local" | "dial-stdio" | "late">>();
  const settled = new WeakMap<DialableLink, "stream-local" | "dial-stdio">();
  let previous: "stream-local" | "dial-stdio" | undefined;
  const note = (how: "stream-local" | "dial-stdio") => {
    if (how === "dial-stdio" && previous !== "dial-stdio") log.warn("the server refuses stream-local forwarding: using `docker system dial-stdio` instead", { socket: remoteSocket });
    if (how === "stream-local" && previous === "dial-stdio") log.info("the server allows stream-local forwarding again", { socket: remoteSocket });
    previous = how;
    return how;
  };
  const undecided = () => new DockernetError(`${remoteSocket}: the server did not answer the first channel within ${decideTimeoutMs / 1000} s (stream-local or dial-stdio undecided)`, { code: "BRIDGE_DIAL_UNDECIDED" });
  const open = (link: DialableLink, how: "stream-local" | "dial-stdio") => (how === "dial-stdio" ? link.dialStdio(remoteSocket) : link.openUnixSocket(remoteSocket));
  const dial = async (link: DialableLink): Promise<Duplex> => {
    const known = decided.get(link);
    if (known) {
      const how = await known;
      if (how === "late") throw undecided();
      return await open(link, how);
    }
    const first = link.openUnixSocket(remoteSocket);
    const answered = first.then(
      () => note("stream-local"),
      (error: unknown) => ((error as { code?: string }).code === SshErrorCode.streamLocalRefused ? note("dial-stdio") : "stream-local" as const),
    );
    // A server that never answers the first channel must not hold the connections after it: past
    // the timeout they fail, the decision is forgotten, and the next connection decides anew.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), decideTimeoutMs)));
    const how = Promise.race([answered, late]).finally(() => clearTimeout(timer));
    decided.set(link, how);
    const result = await how;
    if (result === "late") {
      if (decided.get(link) === how) decided.delete(link);
      first.then((stream) => stream.destroy(), () => {});
      throw undecided();
    }
    settled.set(link, result);
    return result === "stream-local" ? await first : await link.dialStdio(remoteSocket);
  };
  return Object.assign(dial, { decided: (link: DialableLink) => settled.get(link) });
}
