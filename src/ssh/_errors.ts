import { DockernetError, ExitCode } from "../core/errors.ts";

/** The error codes of `src/ssh/`, for callers that decide by code (retry, fall back, give up). */
export const SshErrorCode = {
  /** No TCP connection, no SSH answer in time, or the server hung up before the handshake. Retry. */
  unreachable: "SSH_UNREACHABLE",
  /** The SSH handshake failed for another reason (no common algorithm, protocol error). */
  handshake: "SSH_HANDSHAKE",
  /** The server's key is not in any known_hosts file. */
  hostKeyUnknown: "SSH_HOST_KEY_UNKNOWN",
  /** The server's key differs from the one(s) known for it, or is revoked. Never accepted. */
  hostKeyChanged: "SSH_HOST_KEY_CHANGED",
  /** The server refused the login, or there is no key to log in with. */
  auth: "SSH_AUTH",
  /** The private key cannot be read (format, passphrase). A usage error. */
  identity: "SSH_IDENTITY",
  /** The server refused a direct-streamlocal channel: fall back to `dialStdio`. */
  streamLocalRefused: "SSH_STREAMLOCAL_REFUSED",
  /** Nothing at the remote Unix socket path (checked after a stream-local refusal). */
  remoteSocketMissing: "SSH_REMOTE_SOCKET_MISSING",
  /** The server refused a direct-tcpip channel (AllowTcpForwarding no, PermitOpen). */
  tcpForwardRefused: "SSH_TCP_FORWARD_REFUSED",
  /** The server could not open what a channel asked for (e.g. a TCP connection refused there). */
  channelFailed: "SSH_CHANNEL_FAILED",
  /** `docker system dial-stdio` failed on the server (docker missing, daemon down). */
  dialStdioFailed: "SSH_DIAL_STDIO_FAILED",
  /** A socket path that cannot be put on a remote command line. A usage error. */
  badSocketPath: "SSH_BAD_SOCKET_PATH",
  /** The SSH connection is closed or was lost (streams open on it are destroyed with this). */
  closed: "SSH_CLOSED",
  /** The server did not answer a channel open, or a command did not end, within its timeout. */
  timeout: "SSH_TIMEOUT",
  /** A command wrote more than its output cap. */
  outputCap: "SSH_OUTPUT_CAP",
} as const;

/** Shorthand for a runtime DockernetError with one of the codes above. */
export function sshError(code: string, message: string, options: { hint?: string; cause?: unknown; usage?: boolean } = {}): DockernetError {
  return new DockernetError(message, { code, hint: options.hint, cause: options.cause, exitCode: options.usage ? ExitCode.usage : ExitCode.runtime });
}
