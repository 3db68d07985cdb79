/**
 * What a failed Docker call means for dockernet: docker-modem throws errors with an HTTP status
 * (the engine answered) or a socket error code (it did not); these name the call and say what to check.
 */
import { DockernetError } from "../core/errors.ts";
import type { DockerConnection } from "./host.ts";

/** The HTTP status of an error docker-modem threw; undefined when the engine did not answer. */
export function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown })?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** Turns a connection failure into an error that says what to check. */
export function connectionError(connection: DockerConnection, error: unknown): DockernetError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const where = connection.shown;
  if (code === "EACCES" || code === "EPERM") {
    return new DockernetError(`permission denied on the Docker socket ${connection.socketPath ?? where}`, {
      code: "DOCKER_PERMISSION",
      hint: "run as root, or add this user to the docker group (then log in again)",
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (connection.protocol === "ssh" && /verification failed|Host denied/i.test(message)) {
    return new DockernetError(`the SSH host key of ${connection.host}:${connection.port} is not in known_hosts`, {
      code: "SSH_HOST_KEY",
      hint: `check the key, then add it: ssh-keyscan -p ${connection.port} ${connection.host} >> ~/.ssh/known_hosts`,
      cause: error,
    });
  }
  return new DockernetError(`cannot reach the Docker engine at ${where}: ${message}`, {
    code: "DOCKER_UNREACHABLE",
    hint: "is dockerd running? Check --docker-host / DOCKER_HOST and that the socket exists",
    cause: error,
  });
}

/**
 * An API error with what was being done. The code says whether trying again can help:
 * DOCKER_UNREACHABLE (no answer) and DOCKER_API (5xx) may pass, DOCKER_NOT_FOUND (404),
 * DOCKER_CONFLICT (409: a name in use, a container running) and DOCKER_REJECTED (other 4xx) will not.
 */
export function apiError(connection: DockerConnection, what: string, error: unknown): DockernetError {
  const status = statusCode(error);
  if (status === undefined) {
    const reached = connectionError(connection, error);
    return new DockernetError(`${what}: ${reached.message}`, { code: reached.code, hint: reached.hint, cause: error });
  }
  const reason = (error as { json?: { message?: unknown } }).json?.message;
  const message = typeof reason === "string" ? reason : (error as Error).message;
  const code = status === 404 ? "DOCKER_NOT_FOUND" : status === 409 ? "DOCKER_CONFLICT" : status < 500 ? "DOCKER_REJECTED" : "DOCKER_API";
  return new DockernetError(`${what}: ${message}`, { code, cause: error });
}

/** Docker's own words when an endpoint is already there (connect) or already gone (disconnect). */
export function alreadyDone(error: unknown, op: "connect" | "disconnect"): boolean {
  const status = statusCode(error);
  const message = String((error as { json?: { message?: unknown } }).json?.message ?? (error as Error).message);
  if (op === "connect") return status === 403 && /already exists in network/.test(message);
  return status === 404 || /is not connected to (the )?network/.test(message);
}

/**
 * Docker answers 304 Not Modified to starting a running container or stopping a stopped one: the
 * container is as asked, which the docker CLI too reports as success.
 */
export async function unlessAlready(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (statusCode(error) !== 304) throw error;
  }
}
