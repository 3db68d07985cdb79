/**
 * One SSH connection (ssh2) carrying many channels: stream-local channels to a remote Unix
 * socket, `docker system dial-stdio` over exec as the fallback, direct-tcpip to remote ports, and
 * plain commands. Host keys are checked against known_hosts before anything else.
 *
 * ```ts
 * const link = await SshLink.connect({ host, port: 22, username: "dev", agent: process.env.SSH_AUTH_SOCK,
 *   knownHostsFiles: defaultKnownHostsFiles(), ownKnownHosts, acceptNewHostKey: false }, log);
 * const docker = await link.openUnixSocket("/var/run/docker.sock").catch((error) =>
 *   error.code === "SSH_STREAMLOCAL_REFUSED" ? link.dialStdio("/var/run/docker.sock") : Promise.reject(error));
 * ```
 */
import { constants } from "node:os";
import type { Duplex } from "node:stream";
import ssh2 from "ssh2";
import type { Client, ClientChannel } from "ssh2";
import type { DockernetError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { loginPlan } from "./_auth.ts";
import { ChannelStream, type ExitCheck } from "./_channel-stream.ts";
import { SshErrorCode, sshError } from "./_errors.ts";
import { HostKeyGate } from "./_host-key-gate.ts";
import { hostPort, openTcp } from "./_tcp.ts";
import { unbracket } from "./known-hosts.ts";

export { SshErrorCode } from "./_errors.ts";

/** Where and how to connect. */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** A private key (from --identity), else the agent. */
  privateKey?: Buffer;
  passphrase?: string;
  /** Where `privateKey` was read from; only for messages. */
  identityFile?: string;
  /** The SSH agent's socket (SSH_AUTH_SOCK), used when there is no `privateKey`. */
  agent?: string;
  /** OpenSSH's files (~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts) plus dockernet's own, which new keys are recorded in. */
  knownHostsFiles: string[];
  ownKnownHosts: string;
  /** Record (and trust) a key when no known_hosts file lists the host at all; a changed key is refused regardless. */
  acceptNewHostKey: boolean;
  /** A keep-alive every this many ms; the connection is closed after 3 intervals without an answer. Default 15000. */
  keepaliveIntervalMs?: number;
  /** Limit for TCP connect + handshake + login. Default 20000. */
  readyTimeoutMs?: number;
}

/** What {@link SshLink.run} resolves with. */
/** How long the server may take to answer a channel open (a hostile or wedged one must not hold the caller). */
const CHANNEL_OPEN_TIMEOUT_MS = 15_000;

/** Bounds of `run`: a command that never ends, or writes without end, is cut off. */
export interface RunLimits {
  /** Default 10 s. */
  timeoutMs?: number;
  /** stdout and stderr together; default 64 KiB. */
  maxBytes?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit status; 128 + N for a command killed by signal N. */
  code: number;
}

/** Paths that may go on a remote command line unquoted (the server's shell parses it). */
const SAFE_PATH = /^\/[A-Za-z0-9_./-]*$/;

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254 §5.1). */
const OPEN_PROHIBITED = 1;

type ChannelCallback = (error: Error | undefined, channel: ClientChannel) => void;

/** One authenticated SSH connection. Create with {@link SshLink.connect}. */
export class SshLink {
  /** Resolves when the connection ends for any reason (close(), the server, a network failure, missed keep-alives). */
  readonly closed: Promise<{ reason: string }>;
  /** `user@host:port`, for messages and logs. */
  readonly where: string;

  readonly #client: Client;
  readonly #log: Logger;
  readonly #streams = new Set<ChannelStream>();
  #reason: string | undefined;
  #isClosed = false;
  #fingerprint = "";

  /** The fingerprint of the server's host key (`SHA256:...`), as `ssh-keygen -l` shows it. */
  get hostKeyFingerprint(): string {
    return this.#fingerprint;
  }

  private constructor(client: Client, where: string, log: Logger) {
    this.#client = client;
    this.where = where;
    this.#log = log;
    client.on("error", (error: Error) => {
      this.#reason ??= error.message;
      log.debug("ssh connection error", { host: where, error: error.message });
    });
    client.on("end", () => (this.#reason ??= "the server closed the connection"));
    this.closed = new Promise((resolve) => {
      client.once("close", () => {
        this.#isClosed = true;
        const reason = this.#reason ?? "the connection closed";
        // Before ssh2 ends the channels cleanly: streams must see a loss, not an EOF (after
        // close() too: a relay resets its client on the error, where an EOF could pass for an answer).
        for (const stream of this.#streams) stream.destroy(this.#closedError());
        this.#streams.clear();
        log.debug("ssh connection closed", { host: where, reason });
        resolve({ reason });
      });
    });
  }

  /**
   * Connects and authenticates; the host key is checked first. Unknown key: SSH_HOST_KEY_UNKNOWN
   * (with the SHA256 fingerprint), unless `acceptNewHostKey`, which records it in `ownKnownHosts`
   * and logs it. Changed key: SSH_HOST_KEY_CHANGED, always. Login refused: SSH_AUTH. No answer:
   * SSH_UNREACHABLE (the one a caller should retry).
   */
  static async connect(target: SshTarget, log: Logger): Promise<SshLink> {
    const host = unbracket(target.host);
    const { port, username } = target;
    const where = `${username}@${hostPort(host, port)}`;
    const login = loginPlan(target);
    const files = [...new Set([...target.knownHostsFiles, target.ownKnownHosts])];
    const readyTimeoutMs = target.readyTimeoutMs ?? 20_000;
    const started = Date.now();
    log.debug("ssh connecting", { host: where });
    const socket = await openTcp(host, port, readyTimeoutMs);

    const client = new ssh2.Client();
    const link = new SshLink(client, where, log);
    const gate = new HostKeyGate({ host, port, files, ownKnownHosts: target.ownKnownHosts, acceptNew: target.acceptNewHostKey, log });
    let authenticating = false;
    client.on("handshake", () => {
      authenticating = true;
      gate.handshakeDone();
    });

    const closedEarly = new Error("the connection closed");
    const failure = (error: Error & { level?: string }): DockernetError => {
      const refusal = gate.refusal();
      if (refusal) return refusal;
      const shown = hostPort(host, port);
      if (error.level === "client-authentication" || (authenticating && error.level === undefined)) {
        return sshError(SshErrorCode.auth, `the SSH server ${shown} refused the login as ${username}: tried ${login.tried}`, {
          cause: error,
          hint: `add the public key to ~${username}/.ssh/authorized_keys on the server, or choose another key (--identity, or the SSH agent)`,
        });
      }
      if (error.level === "client-timeout") {
        return sshError(SshErrorCode.unreachable, `no SSH answer from ${shown} within ${readyTimeoutMs / 1000} s`, { cause: error, hint: "check that sshd runs there and answers" });
      }
      if (error.level === "client-socket" || /before handshake/i.test(error.message) || error === closedEarly) {
        return sshError(SshErrorCode.unreachable, `the SSH server ${shown} closed the connection: ${error.message}`, { cause: error, hint: "check that sshd runs there and accepts connections from here (MaxStartups, firewall)" });
      }
      return sshError(SshErrorCode.handshake, `SSH handshake with ${shown} failed: ${error.message}`, { cause: error });
    };

    try {
      await new Promise<void>((resolve, reject) => {
        let lastError: Error | undefined;
        const onError = (error: Error) => (lastError ??= error);
        const onClose = () => reject(failure(lastError ?? closedEarly));
        client.on("error", onError);
        client.once("close", onClose);
        client.once("ready", () => {
          client.off("error", onError).off("close", onClose);
          resolve();
        });
        client.connect({
          sock: socket,
          username,
          hostVerifier: gate.verify,
          authHandler: login.handler,
          algorithms: gate.algorithms(),
          readyTimeout: Math.max(1, readyTimeoutMs - (Date.now() - started)),
          keepaliveInterval: target.keepaliveIntervalMs ?? 15_000,
          // ssh2 gives up when a keep-alive would exceed this count: 2 unanswered, the 3rd interval closes.
          keepaliveCountMax: 2,
        });
      });
    } catch (error) {
      client.destroy();
      throw error;
    }
    await gate.recorded();
    link.#fingerprint = gate.fingerprint();
    log.debug("ssh connected", { host: where, fingerprint: link.hostKeyFingerprint });
    link.#startSession();
    return link;
  }

  /**
   * A channel to a Unix socket on the server (direct-streamlocal@openssh.com). Rejects with
   * SSH_STREAMLOCAL_REFUSED when the server refuses it (AllowStreamLocalForwarding no, or not
   * OpenSSH), so the caller can fall back to {@link dialStdio}; with SSH_REMOTE_SOCKET_MISSING
   * when nothing is at `path` (OpenSSH answers both with the same "open failed", so a refusal
   * is followed by a `test -S` on the server to tell them apart).
   */
  async openUnixSocket(path: string): Promise<Duplex> {
    try {
      return this.#track(new ChannelStream(await this.#open((done) => this.#client.openssh_forwardOutStreamLocal(path, done))));
    } catch (error) {
      if (this.#isClosed || (error as DockernetError).code === SshErrorCode.closed) throw this.#closedError();
      this.#log.debug("stream-local channel refused", { host: this.where, path, error: (error as Error).message });
      if (SAFE_PATH.test(path)) {
        const probe = await this.run(`test -S ${path}`, { timeoutMs: 5000, maxBytes: 4096 }).catch(() => undefined);
        if (probe?.code === 1) {
          throw sshError(SshErrorCode.remoteSocketMissing, `no Unix socket at ${path} on ${this.where}`, { cause: error, hint: "check --remote-socket, and that Docker runs on the server" });
        }
      }
      throw sshError(SshErrorCode.streamLocalRefused, `${this.where} refused a stream-local channel to ${path}: ${(error as Error).message}`, {
        cause: error,
        hint: "the server may have AllowStreamLocalForwarding no; `docker system dial-stdio` over exec works instead",
      });
    }
  }

  /**
   * `docker -H unix://PATH system dial-stdio` over an exec channel: the fallback for servers that
   * refuse stream-local channels (needs the docker CLI on the server). The server's login shell
   * parses an exec command line, which is why the path is limited to `[A-Za-z0-9_./-]` and never
   * quoted. A failed dial (docker missing, daemon down) destroys the stream with
   * SSH_DIAL_STDIO_FAILED and the server's stderr. Each such channel is an SSH session: OpenSSH
   * allows `MaxSessions` (default 10) per connection.
   */
  async dialStdio(socketPath: string): Promise<Duplex> {
    if (!SAFE_PATH.test(socketPath)) {
      throw sshError(SshErrorCode.badSocketPath, `the remote socket path ${JSON.stringify(socketPath)} cannot be passed to docker over SSH`, {
        usage: true,
        hint: "use an absolute path of letters, digits and _ . / - only",
      });
    }
    const command = `docker -H unix://${socketPath} system dial-stdio`;
    const check: ExitCheck = ({ code, signal, stderr }) =>
      code === 0
        ? undefined
        : sshError(SshErrorCode.dialStdioFailed, `\`${command}\` on ${this.where} failed (${signal ?? `exit ${code}`})${stderr ? `: ${stderr}` : ""}`, {
            hint: "the server needs the docker CLI on the login PATH and a running Docker daemon at that socket",
          });
    return this.#track(new ChannelStream(await this.#session(command), check));
  }

  /** An exec channel (an SSH session) running `command`. */
  async #session(command: string): Promise<ClientChannel> {
    try {
      return await this.#open((done) => this.#client.exec(command, done));
    } catch (error) {
      if ((error as DockernetError).code === SshErrorCode.closed) throw error;
      throw sshError(SshErrorCode.channelFailed, `${this.where} refused a session for \`${command}\`: ${(error as Error).message}`, {
        cause: error,
        hint: "OpenSSH allows MaxSessions (default 10) sessions at once per connection",
      });
    }
  }

  /** A TCP connection from the server to host:port (direct-tcpip), e.g. to a published container port. */
  async forwardTcp(host: string, port: number): Promise<Duplex> {
    try {
      return this.#track(new ChannelStream(await this.#open((done) => this.#client.forwardOut("127.0.0.1", 0, host, port, done))));
    } catch (error) {
      if (this.#isClosed || (error as DockernetError).code === SshErrorCode.closed) throw this.#closedError();
      const refused = (error as { reason?: unknown }).reason === OPEN_PROHIBITED;
      throw sshError(refused ? SshErrorCode.tcpForwardRefused : SshErrorCode.channelFailed, `${this.where} cannot connect to ${hostPort(host, port)}: ${(error as Error).message}`, {
        cause: error,
        hint: refused ? "the server refuses TCP forwarding (AllowTcpForwarding, PermitOpen)" : undefined,
      });
    }
  }

  /**
   * One short session (`true`) right after connecting, not awaited. OpenSSH's sshd turns Nagle off
   * on a connection only once a session starts: on a connection that only carries stream-local
   * channels, a channel's EOF after its last data waits for this side's delayed ACK, about 40 ms
   * per Docker API call (`ssh -N -L` has the same cost). A server that refuses sessions costs
   * that delay, nothing else.
   */
  #startSession(): void {
    this.run("true", { timeoutMs: 10_000, maxBytes: 1024 }).catch((error: unknown) => {
      this.#log.debug("no session on the SSH connection: its channels may wait for delayed ACKs", { host: this.where, error: (error as Error).message });
    });
  }

  /**
   * Runs a command on the server (its login shell parses `command`: never put untrusted text in
   * it), stdin closed. Bounded: past `timeoutMs`, or `maxBytes` of output, the channel is closed
   * and the call fails with SSH_TIMEOUT or SSH_OUTPUT_CAP (the connection stays usable).
   */
  async run(command: string, limits: RunLimits = {}): Promise<RunResult> {
    const timeoutMs = limits.timeoutMs ?? 10_000;
    const maxBytes = limits.maxBytes ?? 64 * 1024;
    const channel = await this.#session(command);
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let bytes = 0;
      let cut: DockernetError | undefined;
      let status: { code: number | null; signal?: string } | undefined;
      // Rejected at once: sshd sends the channel's close only once the command has exited, and
      // that may be never. The command is sent KILL (OpenSSH 7.9+ honours it) and the channel closed.
      const cutOff = (error: DockernetError) => {
        if (cut) return;
        cut = error;
        clearTimeout(timer);
        reject(error);
        try {
          channel.signal("KILL");
        } catch {
          // the channel is going away already
        }
        channel.close();
      };
      const timer = setTimeout(() => cutOff(sshError(SshErrorCode.timeout, `\`${command}\` on ${this.where} did not end within ${timeoutMs / 1000} s`)), timeoutMs);
      const keep = (into: Buffer[]) => (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) cutOff(sshError(SshErrorCode.outputCap, `\`${command}\` on ${this.where} wrote more than ${maxBytes} bytes`));
        else into.push(chunk);
      };
      channel.on("data", keep(out));
      channel.stderr.on("data", keep(err));
      channel.on("exit", (code: number | null, signal?: string) => (status = { code, signal }));
      channel.on("close", (code?: number | null, signal?: string) => {
        clearTimeout(timer);
        if (cut) return;
        // A quick command's exit status can come in the same read as the session's answer, so ssh2
        // emits "exit" before these listeners are on; "close" repeats what "exit" said (ssh2's API).
        if (!status && code !== undefined) status = { code, signal };
        if (!status) return reject(this.#isClosed ? this.#closedError() : sshError(SshErrorCode.channelFailed, `\`${command}\` on ${this.where} ended without an exit status`));
        const signalled = status.signal ? 128 + (constants.signals[status.signal as NodeJS.Signals] ?? 0) : undefined;
        resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), code: status.code ?? signalled ?? 255 });
      });
      channel.end();
    });
  }

  /** Closes the connection; every stream still open on it is destroyed with SSH_CLOSED; `closed` resolves. */
  close(): void {
    this.#reason ??= "closed by dockernet";
    if (this.#isClosed) return;
    this.#client.end();
    // end() waits for the server's goodbye; a dead server would keep it waiting.
    setTimeout(() => this.#client.destroy(), 1000).unref();
  }

  #closedError(): DockernetError {
    return sshError(SshErrorCode.closed, `the SSH connection to ${this.where} is closed: ${this.#reason ?? "closed"}`);
  }

  /**
   * Opens a channel with ssh2's callback API; a closed connection gives SSH_CLOSED, a server that
   * does not answer within CHANNEL_OPEN_TIMEOUT_MS gives SSH_TIMEOUT (a channel it opens later is closed).
   */
  #open(start: (done: ChannelCallback) => void): Promise<ClientChannel> {
    if (this.#isClosed) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(sshError(SshErrorCode.timeout, `${this.where} did not answer a channel open within ${CHANNEL_OPEN_TIMEOUT_MS / 1000} s`));
      }, CHANNEL_OPEN_TIMEOUT_MS);
      try {
        start((error, channel) => {
          clearTimeout(timer);
          if (late) channel?.close();
          else if (error) reject(this.#isClosed ? this.#closedError() : error);
          else resolve(channel);
        });
      } catch (error) {
        clearTimeout(timer);
        // ssh2 throws "Not connected" once the socket is gone but before "close" is emitted.
        reject(this.#isClosed || /not connected/i.test((error as Error).message) ? this.#closedError() : error);
      }
    });
  }

  #track(stream: ChannelStream): ChannelStream {
    if (this.#isClosed) {
      stream.destroy(this.#closedError());
      return stream;
    }
    this.#streams.add(stream);
    stream.once("close", () => this.#streams.delete(stream));
    return stream;
  }
}
