import ssh2 from "ssh2";
import type { AnyAuthMethod, AuthHandlerMiddleware, NextAuthHandler } from "ssh2";
import { SshErrorCode, sshError } from "./_errors.ts";
import { fingerprint } from "./known-hosts.ts";

/** What {@link loginPlan} needs from an SSH target. */
export interface LoginOptions {
  username: string;
  privateKey?: Buffer;
  passphrase?: string;
  /** Where the private key came from, for messages. */
  identityFile?: string;
  agent?: string;
}

/** The one way an SSH connection logs in, and how to tell the user what was tried. */
export interface LoginPlan {
  handler: AuthHandlerMiddleware;
  /** "the key ~/.ssh/id_ed25519 (ssh-ed25519 SHA256:...)" or "the keys of the SSH agent at ...". */
  tried: string;
}

/**
 * The private key if one is given (`--identity`), else the SSH agent — never both, so the server
 * is offered exactly what the user chose. The key is parsed here, before any connection, so a
 * wrong passphrase is a clear usage error rather than a failed login.
 */
export function loginPlan(options: LoginOptions): LoginPlan {
  const { username } = options;
  let method: AnyAuthMethod;
  let tried: string;
  if (options.privateKey) {
    const parsed = ssh2.utils.parseKey(options.privateKey, options.passphrase);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    const where = options.identityFile ?? "given";
    if (key instanceof Error || !key?.isPrivateKey()) {
      const why = key instanceof Error ? key.message : "not a private key";
      throw sshError(SshErrorCode.identity, `cannot use the SSH private key ${where}: ${why}`, {
        usage: true,
        // No flag takes a passphrase (it would sit in the shell history): the agent holds an encrypted key.
        hint: "pass an unencrypted OpenSSH/PEM private key, or load an encrypted one into the SSH agent (ssh-add FILE asks for its passphrase once) and leave --identity out",
      });
    }
    method = { type: "publickey", username, key };
    tried = `the key ${where} (${key.type} ${fingerprint(key.getPublicSSH())})`;
  } else if (options.agent) {
    method = { type: "agent", username, agent: options.agent };
    tried = `the keys of the SSH agent at ${options.agent}`;
  } else {
    throw sshError(SshErrorCode.auth, `no SSH key to log in as ${username} with`, {
      hint: "pass --identity ~/.ssh/id_ed25519, or start an SSH agent holding your key (SSH_AUTH_SOCK)",
    });
  }
  let offered = false;
  const handler: AuthHandlerMiddleware = (_left, _partial, next: NextAuthHandler) => {
    if (offered) {
      // ssh2 reads `false` as "no more methods" (its types only list method names and objects).
      (next as unknown as (method: false) => void)(false);
      return;
    }
    offered = true;
    next(method);
  };
  return { handler, tried };
}
