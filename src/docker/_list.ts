/** Entries of the container list (`GET /containers/json`), read into dockernet's types. */
import type Docker from "dockerode";
import { toNetworks } from "./_inspect.ts";
import { containerName } from "./_names.ts";
import type { ContainerSummary, HostPort } from "./types.ts";

/** One entry of the container list as dockernet reads it. */
export function toSummary(entry: Docker.ContainerInfo): ContainerSummary {
  return {
    id: entry.Id,
    name: containerName(entry.Names[0], entry.Id),
    labels: entry.Labels ?? {},
    running: entry.State === "running",
    image: entry.Image,
    state: entry.State,
    status: entry.Status,
    created: new Date(entry.Created * 1000).toISOString(),
    networkMode: entry.HostConfig?.NetworkMode ?? "default",
    // A half-failed connect leaves an entry without a network id: it is no attachment.
    networks: toNetworks(entry.NetworkSettings?.Networks).filter((network) => network.networkId !== ""),
    bound: (entry.Ports ?? []).flatMap((port) => (port.PublicPort ? [{ port: `${port.PrivatePort}/${port.Type}`, hostIp: port.IP ?? "", hostPort: port.PublicPort }] : [])),
  };
}

/** The ports one list entry publishes on its engine's host. */
export function toHostPorts(entry: Docker.ContainerInfo): HostPort[] {
  const container = { id: entry.Id, name: containerName(entry.Names[0], entry.Id) };
  return (entry.Ports ?? []).flatMap((port) =>
    port.PublicPort ? [{ container, proto: port.Type === "udp" ? ("udp" as const) : ("tcp" as const), hostIp: port.IP ?? "0.0.0.0", hostPort: port.PublicPort }] : [],
  );
}
