import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { usageError } from "../core/errors.ts";
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

/** The key: `identity`, else the agent, else ~/.ssh/id_ed25519, else ~/.ssh/id_rsa (the files first with `filesFirst`). */
export async function chooseKey(options: KeyChoiceOptions): Promise<SshCredentials> {
  const read = (path: string) => readFile(path).catch(() => undefined);
  if (options.identity !== "") {
    const key = await read(options.identity);
    if (key === undefined) throw usageError(`cannot read the identity file ${options.identity}`);
    return { privateKey: key };
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
