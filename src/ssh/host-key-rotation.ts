import { sshError, SshErrorCode } from "./_errors.ts";
import type { SshLink } from "./connection.ts";

/** Where the server's sshd keeps its ed25519 host key and its PID (paths put on a command line unquoted). */
export interface HostKeyPaths {
  keyFile: string;
  pidFile: string;
}

const SAFE_PATH = /^\/[A-Za-z0-9_./-]+$/;

/**
 * Has the server replace its ed25519 host key over `link`, a connection already verified with the
 * key it had (the bootstrap key, which travelled in the cloud's user data and so is no secret):
 * a new key generated there (its private half never leaves the server), put in place, and sshd
 * sent SIGHUP to serve it to new connections. Resolves with the new public key to record.
 */
export async function replaceHostKey(link: Pick<SshLink, "run" | "where">, paths: HostKeyPaths): Promise<{ type: string; key: Buffer }> {
  for (const path of [paths.keyFile, paths.pidFile]) {
    if (!SAFE_PATH.test(path)) throw sshError(SshErrorCode.badSocketPath, `the path ${JSON.stringify(path)} cannot be put on a remote command line`, { usage: true });
  }
  const f = paths.keyFile;
  const script = [
    "set -e",
    "umask 077",
    `rm -f ${f}.dockernet ${f}.dockernet.pub`,
    `ssh-keygen -q -t ed25519 -N '' -C '' -f ${f}.dockernet`,
    // The public half first: sshd reads the private one, and a crash between the two moves leaves the old pair's private key.
    `mv -f ${f}.dockernet.pub ${f}.pub`,
    `mv -f ${f}.dockernet ${f}`,
    `cat ${f}.pub`,
    `kill -HUP "$(cat ${paths.pidFile})"`,
  ].join("; ");
  const result = await link.run(script, { timeoutMs: 20_000, maxBytes: 4096 });
  const [type, base64] = result.stdout.trim().split(/\s+/);
  if (result.code !== 0 || type !== "ssh-ed25519" || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw sshError(SshErrorCode.channelFailed, `replacing the host key on ${link.where} failed (exit ${result.code})${result.stderr ? `: ${result.stderr.trim()}` : ""}`);
  }
  return { type, key: Buffer.from(base64, "base64") };
}
