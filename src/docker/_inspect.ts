/** `docker inspect` output, read into what the modes plan with (ObservedContainer) and what flow shows (ContainerState). */
import { containerName } from "./_names.ts";
import type { BoundPort, ContainerNetwork, ContainerState, ObservedContainer, PublishedPort } from "./types.ts";

/** The parts of `docker inspect` dockernet reads. */
export interface RawInspect {
  Id: string;
  Name: string;
  Created?: string;
  State?: { Status?: string; Running?: boolean; Pid?: number; StartedAt?: string; Health?: { Status?: string } };
  Config?: { Image?: string; Labels?: Record<string, string> | null; Env?: string[] | null };
  HostConfig?: { NetworkMode?: string; Runtime?: string; Dns?: string[] | null };
  ResolvConfPath?: string;
  NetworkSettings?: { Networks?: Record<string, RawEndpoint> | null; Ports?: Record<string, unknown[] | null> | null };
}

/** One network of a container, as inspect and the container list both give it. */
export interface RawEndpoint {
  NetworkID?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  Gateway?: string;
  GlobalIPv6Address?: string;
  IPv6Gateway?: string;
}

/** A container's networks; Docker's empty strings become absent fields. */
export function toNetworks(raw: Record<string, RawEndpoint> | null | undefined): ContainerNetwork[] {
  return Object.entries(raw ?? {}).map(([name, endpoint]) => ({
    name,
    networkId: endpoint.NetworkID ?? "",
    ipv4: endpoint.IPAddress || undefined,
    prefixLength: endpoint.IPPrefixLen || undefined,
    gateway: endpoint.Gateway || undefined,
    ipv6: endpoint.GlobalIPv6Address || undefined,
    gateway6: endpoint.IPv6Gateway || undefined,
  }));
}

/** Normalises `docker inspect` output into what the modes plan with. */
export function toObserved(raw: RawInspect): ObservedContainer {
  const running = raw.State?.Running === true;
  return {
    id: raw.Id,
    name: containerName(raw.Name, raw.Id),
    running,
    pid: running ? (raw.State?.Pid ?? 0) : 0,
    labels: raw.Config?.Labels ?? {},
    env: raw.Config?.Env ?? [],
    networks: toNetworks(raw.NetworkSettings?.Networks),
    networkMode: raw.HostConfig?.NetworkMode ?? "default",
    published: toPublished(raw.NetworkSettings?.Ports),
    ...(raw.HostConfig?.Runtime ? { runtime: raw.HostConfig.Runtime } : {}),
    ...(raw.HostConfig?.Dns ? { dns: raw.HostConfig.Dns } : {}),
    ...(raw.ResolvConfPath ? { resolvConfPath: raw.ResolvConfPath } : {}),
  };
}

/** `{"80/tcp": [{HostIp, HostPort}], "53/udp": null}` -> the ports bound on the host. */
function toPublished(raw: Record<string, unknown[] | null> | null | undefined): PublishedPort[] {
  const published: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(raw ?? {})) {
    const match = /^(\d+)\/(tcp|udp)$/.exec(key);
    if (match && Array.isArray(bindings) && bindings.length > 0) published.push({ port: Number(match[1]), proto: match[2] as "tcp" | "udp" });
  }
  return published;
}

/** A container's lifecycle state (`docker inspect`, trimmed). */
export function toState(raw: RawInspect): ContainerState {
  return {
    id: raw.Id,
    name: containerName(raw.Name, raw.Id),
    image: raw.Config?.Image ?? "",
    state: raw.State?.Status ?? "unknown",
    running: raw.State?.Running === true,
    health: raw.State?.Health?.Status ?? "none",
    ...(raw.State?.Running && raw.State.StartedAt ? { startedAt: raw.State.StartedAt } : {}),
    created: raw.Created ?? "",
    labels: raw.Config?.Labels ?? {},
    bound: toBound(raw.NetworkSettings?.Ports),
  };
}

/** `{"80/tcp": [{HostIp, HostPort}]}` -> each binding with the host port Docker chose. */
function toBound(raw: Record<string, unknown[] | null> | null | undefined): BoundPort[] {
  return Object.entries(raw ?? {}).flatMap(([port, bindings]) =>
    (bindings ?? []).flatMap((binding) => {
      const { HostIp, HostPort } = (binding ?? {}) as { HostIp?: string; HostPort?: string };
      return HostPort ? [{ port, hostIp: HostIp ?? "", hostPort: Number(HostPort) }] : [];
    }),
  );
}
