import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockernetError, ExitCode } from "../core/errors.ts";
import { hostKeyVerifier } from "../ssh/known-hosts.ts";

/** Connection options for dockerode, derived from a Docker host URL. */
export interface DockerConnection {
  socketPath?: string;
  protocol?: "http" | "https" | "ssh";
  host?: string;
  port?: number;
  username?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  sshOptions?: { agent?: string; hostVerifier?: (key: Buffer) => boolean };
  /** The URL as a person wrote it, for messages. */
  shown: string;
}

function bad(host: string, why: string): DockernetError {
  return new DockernetError(`docker host ${JSON.stringify(host)}: ${why}`, {
    code: "DOCKER_HOST_INVALID",
    exitCode: ExitCode.usage,
    hint: "use unix:///var/run/docker.sock, tcp://HOST:2375, tcp://HOST:2376 with DOCKER_TLS_VERIFY=1, or ssh://USER@HOST",
  });
}

function readCert(dir: string, file: string): Buffer {
  const path = join(dir, file);
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new DockernetError(`cannot read TLS file ${path}`, {
      code: "DOCKER_TLS_FILE",
      exitCode: ExitCode.usage,
      hint: "DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem",
      cause,
    });
  }
}

/**
 * Turns `unix://`, `tcp://` (TLS when `DOCKER_TLS_VERIFY=1` or port 2376, certificates from
 * `DOCKER_CERT_PATH`) and `ssh://` URLs into dockerode options.
 */
export function parseDockerHost(host: string, env: Record<string, string | undefined> = process.env): DockerConnection {
  if (host.startsWith("unix://")) {
    const socketPath = host.slice("unix://".length);
    if (!socketPath.startsWith("/")) throw bad(host, "the socket path must be absolute");
    return { socketPath, shown: host };
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw bad(host, "not a URL");
  }
  const port = url.port === "" ? undefined : Number(url.port);
  if (url.protocol === "ssh:") {
    // Like `ssh` with StrictHostKeyChecking=yes: the engine's host key must be in known_hosts.
    const hostVerifier = hostKeyVerifier(url.hostname, port ?? 22);
    return { protocol: "ssh", host: url.hostname, port: port ?? 22, username: url.username || undefined, sshOptions: { agent: env.SSH_AUTH_SOCK, hostVerifier }, shown: host };
  }
  if (url.protocol !== "tcp:" && url.protocol !== "http:" && url.protocol !== "https:") {
    throw bad(host, `unsupported scheme ${url.protocol.replace(":", "")}`);
  }
  // Like the docker CLI: any non-empty DOCKER_TLS_VERIFY turns verification on.
  const tls = (env.DOCKER_TLS_VERIFY ?? "") !== "" || url.protocol === "https:" || port === 2376;
  const connection: DockerConnection = { protocol: tls ? "https" : "http", host: url.hostname, port: port ?? (tls ? 2376 : 2375), shown: host };
  const certPath = env.DOCKER_CERT_PATH;
  if (tls && certPath) {
    connection.ca = readCert(certPath, "ca.pem");
    connection.cert = readCert(certPath, "cert.pem");
    connection.key = readCert(certPath, "key.pem");
  }
  return connection;
}
