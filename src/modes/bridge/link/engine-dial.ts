import type { Duplex } from "node:stream";
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
export function engineDialer(options: { remoteSocket: string; log: Logger }): (link: DialableLink) => Promise<Duplex> {
  const { remoteSocket, log } = options;
  const decided = new WeakMap<DialableLink, Promise<"stream-local" | "dial-stdio">>();
  let previous: "stream-local" | "dial-stdio" | undefined;
  const note = (how: "stream-local" | "dial-stdio") => {
    if (how === "dial-stdio" && previous !== "dial-stdio") log.warn("the server refuses stream-local forwarding: using `docker system dial-stdio` instead", { socket: remoteSocket });
    if (how === "stream-local" && previous === "dial-stdio") log.info("the server allows stream-local forwarding again", { socket: remoteSocket });
    previous = how;
    return how;
  };
  return async (link) => {
    const known = decided.get(link);
    if (known) return (await known) === "dial-stdio" ? await link.dialStdio(remoteSocket) : await link.openUnixSocket(remoteSocket);
    const first = link.openUnixSocket(remoteSocket);
    const how = first.then(
      () => note("stream-local"),
      (error: unknown) => ((error as { code?: string }).code === SshErrorCode.streamLocalRefused ? note("dial-stdio") : "stream-local" as const),
    );
    decided.set(link, how);
    return (await how) === "stream-local" ? await first : await link.dialStdio(remoteSocket);
  };
}
