import { usageError } from "./errors.ts";

/** Where a listener binds. */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Parses a listen address: `HOST:PORT`, `[V6]:PORT`, or a bare `PORT` / `:PORT`, which listens on
 * 127.0.0.1 (loopback unless the user names another address). `flag` names the setting in errors.
 */
export function parseListen(text: string, flag = "--metrics-listen"): ListenAddress {
  const parsed = readListen(text);
  if (typeof parsed === "string") throw usageError(`${flag} ${JSON.stringify(text)}: ${parsed}`);
  return parsed;
}

/** The address, or what is wrong with it (a port out of range is named as such, not as a bad shape). */
export function readListen(text: string): ListenAddress | string {
  const value = text.trim();
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(value);
  const plain = /^([^:[\]\s]*):(\d+)$/.exec(value);
  const bare = /^(\d+)$/.exec(value);
  if (!(bracketed || plain || bare)) return "expected HOST:PORT, [IPv6]:PORT or PORT";
  const host = bracketed?.[1] ?? (plain?.[1] || "127.0.0.1");
  const port = Number(bracketed?.[2] ?? plain?.[2] ?? bare?.[1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${bracketed?.[2] ?? plain?.[2] ?? bare?.[1]} is out of range (1-65535)`;
  return { host, port };
}
