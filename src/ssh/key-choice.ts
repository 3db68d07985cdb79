import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { type DockernetError, usageError } from "../core/errors.ts";
import type { SshTarget } from "./connection.ts";

/** How to log in: a key file's bytes, or the agent's socket. */
export type SshCredentials = Pick<SshTarget, "privateKey" | "agent">;

export interface KeyChoiceOptions {
  /** `--identity FILE`; "" for none. */
  identity: string;
  /**
   * Try the key files before the agent: a server a provider creates trusts the key file's public
   * half (what it uploads), which the agent may not hold. Otherwise the agent first, as ssh does.
   */
  filesFirst: boolean;
  /** Default: process.env (SSH_AUTH_SOCK). */
  env?: Record<string, string | undefined>;
  /** Default: the user's home (~/.ssh). */
  home?: string;
}

/** Why `--identity` cannot be read, in words, with what to do about it. */
function unreadable(path: string, error: NodeJS.ErrnoException): DockernetError {
  const reason: Record<string, [string, string]> = {
    ENOENT: ["no such file", "give the path of your private key, e.g. --identity ~/.ssh/id_ed25519, or leave --identity out to use the SSH agent"],
    EACCES: ["permission denied", `the file must be readable by the user running dockernet (uid ${process.getuid?.() ?? "?"})`],
    EISDIR: ["it is a directory", "give the private key file itself, e.g. ~/.ssh/id_ed25519"],
  };
  const [why, hint] = reason[error.code ?? ""] ?? [error.message, undefined];
  return usageError(`cannot read the identity file ${path}: ${why}`, hint);
}

/** The key: `identity`, else the agent, else ~/.ssh/id_ed25519, else ~/.ssh/id_rsa (the files first with `filesFirst`). */
export async function chooseKey(options: KeyChoiceOptions): Promise<SshCredentials> {
  const read = (path: string) => readFile(path).catch(() => undefined);
  if (options.identity !== "") {
    try {
      return { privateKey: await readFile(options.identity) };
    } catch (error) {
      throw unreadable(options.identity, error as NodeJS.ErrnoException);
    }
  }
  const fromFiles = async () => {
    for (const name of ["id_ed25519", "id_rsa"]) {
      const key = await read(join(options.home ?? homedir(), ".ssh", name));
      if (key !== undefined) return { privateKey: key };
    }
    return undefined;
  };
  const agent = (options.env ?? process.env).SSH_AUTH_SOCK;
  const file = options.filesFirst ? await fromFiles() : undefined;
  if (file) return file;
  if (agent) return { agent };
  const fallback = options.filesFirst ? undefined : await fromFiles();
  if (fallback) return fallback;
  throw usageError("no SSH key: no --identity, no SSH agent (SSH_AUTH_SOCK), no ~/.ssh/id_ed25519 or id_rsa");
}
