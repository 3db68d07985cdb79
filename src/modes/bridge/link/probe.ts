import type { Duplex } from "node:stream";
import { DockernetError, errorMessage } from "../../../core/errors.ts";
import type { SshLink } from "../../../ssh/connection.ts";

/**
 * `GET /_ping` on a fresh channel to the remote engine, before the bridge says it serves: a wrong
 * --remote-socket or a stopped daemon is then one clear error at start, instead of every Docker
 * command failing later. Rejects with the channel's own error (SSH_REMOTE_SOCKET_MISSING,
 * SSH_DIAL_STDIO_FAILED...) or BRIDGE_DOCKER_UNREACHABLE.
 */
export async function probeEngine(channel: Duplex, where: string, timeoutMs = 10_000): Promise<void> {
  const answer = await new Promise<string>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => channel.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    channel.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    channel.once("end", () => {
      clearTimeout(timer);
      resolve(text);
    });
    channel.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    channel.end("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n");
  }).finally(() => channel.destroy());
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
  if (status !== "200") {
    throw new DockernetError(`the Docker engine at ${where} did not answer /_ping: ${status ? `HTTP ${status}` : `no HTTP answer (${JSON.stringify(answer.slice(0, 80))})`}`, {
      code: "BRIDGE_DOCKER_UNREACHABLE",
      hint: "check --remote-socket, and that Docker runs on the server",
    });
  }
}

/** `probeEngine` for messages: the error as the user should read it. */
export function probeFailure(error: unknown, where: string): DockernetError {
  if (error instanceof DockernetError) return error;
  return new DockernetError(`the Docker engine at ${where} cannot be reached: ${errorMessage(error)}`, { code: "BRIDGE_DOCKER_UNREACHABLE", cause: error, hint: "check --remote-socket, and that Docker runs on the server" });
}

/**
 * The engine checked once on `link` before the bridge serves: a wrong --remote-socket is one clear
 * error now, not a failure per Docker command.
 */
export async function checkEngine(link: SshLink, dial: (link: SshLink) => Promise<Duplex>, remoteSocket: string): Promise<void> {
  const where = `${remoteSocket} on ${link.where}`;
  await probeEngine(await dial(link), where).catch((error: unknown) => {
    throw probeFailure(error, where);
  });
}
