import { connect, type Socket } from "node:net";
import { SshErrorCode, sshError } from "./_errors.ts";

/** `host:port`, `[v6]:port`, for messages. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A TCP connection to an SSH server, Nagle off (Docker API calls are many small round trips);
 * SSH_UNREACHABLE otherwise. (Sending a turn's writes in one system call, as OpenSSH does, cut the
 * sends per API call from 13 to 3, and was measured beside this: no better per call or with 20
 * clients at once, and 10-30% less download throughput, the window adjusts held to the turn's end.)
 */
export function openTcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const where = hostPort(host, port);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      reject(sshError(SshErrorCode.unreachable, `cannot reach the SSH server ${where}: ${why}`, { cause, hint: "check the host name and port, and that sshd runs there and the network lets you through" }));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    socket.once("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message, error));
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
