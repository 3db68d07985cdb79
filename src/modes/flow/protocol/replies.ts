import { DockernetError, errorMessage } from "../../../core/errors.ts";

/** The kinds of failure an API reply names (`error_type`). */
export const errorTypes = ["validation_error", "not_found", "conflict", "docker_api_error", "socket_error", "container_error", "timeout", "unauthorized", "forbidden"] as const;
export type ErrorType = (typeof errorTypes)[number];

/** A failure of one API request, answered in the one failure shape. */
export class FlowError extends Error {
  readonly type: ErrorType;
  readonly details: Record<string, unknown>;

  constructor(type: ErrorType, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "FlowError";
    this.type = type;
    this.details = details;
  }
}

/** A success reply. */
export interface OkReply {
  ok: true;
  data: unknown;
}

/** The one shape of every failure reply. */
export interface ErrorReply {
  error: true;
  error_type: ErrorType;
  message: string;
  details: Record<string, unknown>;
  timestamp: string;
}

export type Reply = OkReply | ErrorReply;

/** Docker's refusals mapped to what the client can do about them. */
const dockerTypes: Record<string, ErrorType> = {
  DOCKER_NOT_FOUND: "not_found",
  DOCKER_CONFLICT: "conflict",
};

/** Any thrown value as the failure reply; Docker and unknown errors never leak more than their message. */
export function errorReply(error: unknown): ErrorReply {
  const timestamp = new Date().toISOString();
  if (error instanceof FlowError) return { error: true, error_type: error.type, message: error.message, details: error.details, timestamp };
  if (error instanceof DockernetError && error.code.startsWith("DOCKER_")) {
    // Docker names other containers by id (a name "already in use by container <id>"): a client
    // sees only the manager's own containers, so ids in Docker's words are not passed on.
    const message = error.message.replace(/\b[0-9a-f]{64}\b/g, "(another container)");
    return { error: true, error_type: dockerTypes[error.code] ?? "docker_api_error", message, details: { code: error.code }, timestamp };
  }
  // The server's own files (a container's socket directory) are not Docker's fault: say whose they are, and the fix.
  if (error instanceof DockernetError && error.code === "FLOW_SOCKET_DIR") {
    return { error: true, error_type: "socket_error", message: error.message, details: { code: error.code, ...(error.hint ? { hint: error.hint } : {}) }, timestamp };
  }
  return { error: true, error_type: "docker_api_error", message: errorMessage(error), details: {}, timestamp };
}
