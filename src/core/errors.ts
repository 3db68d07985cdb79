/** Exit codes documented in the README. */
export const ExitCode = { ok: 0, runtime: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface DockernetErrorOptions {
  /** A stable, greppable identifier such as `CONFIG_INVALID` or `DOCKER_UNREACHABLE`. */
  code: string;
  exitCode?: ExitCode;
  /** What the user can do about it, printed under the message. */
  hint?: string;
  /** One line per problem when the error gathers several (`config validate --json` lists them). */
  details?: readonly string[];
  cause?: unknown;
}

/** The one error type: a message for people, a code for logs, an exit code and a hint. */
export class DockernetError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly details: readonly string[];

  constructor(message: string, options: DockernetErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "DockernetError";
    this.code = options.code;
    this.exitCode = options.exitCode ?? ExitCode.runtime;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** A usage or configuration error (exit code 2). */
export function usageError(message: string, hint?: string): DockernetError {
  return new DockernetError(message, { code: "USAGE", exitCode: ExitCode.usage, hint });
}

/** The message of any thrown value, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const systemReasons: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  ENOSPC: "no space left on the device",
};

/**
 * Why a system call failed, in the words a user reads (`permission denied`), never a bare
 * `EACCES`: for the end of a message that already names the path and what was being done.
 */
export function systemReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined ? systemReasons[code] : undefined) ?? code ?? errorMessage(error);
}

/** Whether a system call failed for lack of permission (or a read-only file system), which running as another user may fix. */
export function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "EACCES" || code === "EPERM" || code === "EROFS";
}
