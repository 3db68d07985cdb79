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
  const value = text.trim();
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(value);
  const plain = /^([^:[\]\s]*):(\d{1,5})$/.exec(value);
  const bare = /^(\d{1,5})$/.exec(value);
  const host = bracketed?.[1] ?? (plain?.[1] || "127.0.0.1");
  const port = Number(bracketed?.[2] ?? plain?.[2] ?? bare?.[1]);
  if (!(bracketed || plain || bare) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw usageError(`${flag} ${JSON.stringify(text)}: expected HOST:PORT, [IPv6]:PORT or PORT`);
  }
  return { host, port };
}
