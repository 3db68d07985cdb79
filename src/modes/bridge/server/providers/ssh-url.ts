import { unbracket } from "../../../../ssh/known-hosts.ts";

/** Where `--host ssh://user@host:port` points: the user defaults to root, the port to 22. */
export interface SshAddress {
  host: string;
  port: number;
  user: string;
}

const shape = /^ssh:\/\/(?:([^@\s/]*)@)?(\[[^\]\s/@]*\]|[^\s/@:[\]]*)(?::([^\s/@]*))?\/?$/;

/** The host of `--host` read, or why it cannot be (`has port 99999, out of range (1-65535)`): pure, for the config check and the provider. */
export function readSshUrl(url: string): SshAddress | { problem: string } {
  const match = shape.exec(url);
  if (!match) return { problem: "is not ssh://[user@]host[:port]" };
  const [, rawUser = "", rawHost = "", rawPort] = match;
  const host = unbracket(rawHost);
  if (host === "") return { problem: "has no host name (ssh://[user@]host[:port])" };
  // `new URL` would answer "Invalid URL" for both of these: say which part is wrong.
  if (rawPort !== undefined && !/^\d+$/.test(rawPort)) return { problem: `has a port that is not a number (${JSON.stringify(rawPort)})` };
  const port = rawPort === undefined || rawPort === "" ? 22 : Number(rawPort);
  if (port < 1 || port > 65535) return { problem: `has port ${port}, out of range (1-65535)` };
  let user: string;
  try {
    user = decodeURIComponent(rawUser) || "root";
  } catch {
    return { problem: `has a malformed %-escape in its user ${JSON.stringify(rawUser)}` };
  }
  return { host, port, user };
}

/** Why `url` is no ssh://[user@]host[:port] (a clause after the quoted value), or undefined when it is one. */
export function sshUrlProblem(url: string): string | undefined {
  const read = readSshUrl(url);
  return "problem" in read ? read.problem : undefined;
}

/** `ssh://user@host:port` as a server to connect to; the config check has refused malformed ones already. */
export function parseSshUrl(url: string): SshAddress {
  const read = readSshUrl(url);
  if ("problem" in read) throw new Error(`${JSON.stringify(url)} ${read.problem}`);
  return read;
}
