import { readFile } from "node:fs/promises";
import { nameservers } from "./dns.ts";

const read = (path: string) => readFile(path, "utf8").catch(() => undefined);

/**
 * The nameservers dockerd forwards to, from the resolv.conf it reads: /etc/resolv.conf, or
 * systemd-resolved's list of real upstreams when that file names only its stub 127.0.0.53
 * (Docker's own rule). dockernet runs on the engine's host, so it reads the same files.
 */
export async function hostNameservers(): Promise<string[]> {
  const servers = nameservers((await read("/etc/resolv.conf")) ?? "");
  if (servers.length === 1 && servers[0] === "127.0.0.53") {
    const upstream = await read("/run/systemd/resolve/resolv.conf");
    if (upstream !== undefined) return nameservers(upstream);
  }
  return servers;
}

/** The nameservers of a container's resolv.conf (its host path from inspect); empty when unreadable. */
export async function containerNameservers(path: string | undefined): Promise<string[]> {
  return path === undefined ? [] : nameservers((await read(path)) ?? "");
}
