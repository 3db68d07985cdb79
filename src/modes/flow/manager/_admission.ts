/**
 * What `create_container` checks before it asks Docker for anything: published ports a client may
 * have, and an image the engine has (pulled when `flow.pull` allows, its progress told).
 */
import { errorMessage } from "../../../core/errors.ts";
import type { DockerClient } from "../../../docker/client.ts";
import type { PullProgress } from "../../../docker/types.ts";
import { activity, type Activity } from "../protocol/activity.ts";
import { FlowError } from "../protocol/replies.ts";

/** Host ports below this need privileges on the host: a client may not take them. */
export const firstUnprivilegedPort = 1024;
/** At most one progress entry per layer in this time (each status change is told at once). */
const progressEveryMs = 250;

/**
 * Refuses a host port below 1024 (`forbidden`) and one a running container of the engine
 * already publishes on the same address (`conflict`), each naming the port.
 */
export async function checkPorts(client: DockerClient, ports: Record<string, number | null> | undefined, publishAddress: string): Promise<void> {
  const asked = Object.entries(ports ?? {}).filter((entry): entry is [string, number] => entry[1] !== null && entry[1] !== 0);
  for (const [key, hostPort] of asked) {
    if (hostPort < firstUnprivilegedPort) {
      throw new FlowError("forbidden", `ports.${key}: host port ${hostPort} is below ${firstUnprivilegedPort} (privileged ports are refused)`, { field: `ports.${key}`, host_port: hostPort });
    }
  }
  if (asked.length === 0) return;
  const wildcard = (ip: string) => ip === "" || ip === "0.0.0.0" || ip === "::";
  const published = await client.listHostPorts();
  for (const [key, hostPort] of asked) {
    const proto = key.split("/")[1] === "udp" ? "udp" : "tcp";
    const taken = published.find((entry) => entry.hostPort === hostPort && entry.proto === proto && (wildcard(entry.hostIp) || wildcard(publishAddress) || entry.hostIp === publishAddress));
    if (taken) throw new FlowError("conflict", `ports.${key}: host port ${hostPort}/${proto} is in use`, { field: `ports.${key}`, host_port: hostPort });
  }
}

/**
 * Makes sure the engine has `image`: with `pull = "never"` a missing one is `not_found` naming
 * it; with `missing` it is pulled, each layer's progress told as `pulling` activity.
 */
export async function ensureImage(client: DockerClient, image: string, options: { pull: "missing" | "never"; tell(entry: Activity): void }): Promise<void> {
  if (await client.hasImage(image)) return;
  if (options.pull === "never") throw new FlowError("not_found", `image ${image} is not on the host, and the server does not pull (flow.pull = "never")`, { field: "image", image });
  const subject = { id: "", name: image };
  const last = new Map<string, { status: string; at: number }>();
  options.tell(activity("pulling", subject, `pulling ${image}`, { image }));
  const pulled = client.pullImage(image, (step: PullProgress) => {
    const now = Date.now();
    const before = last.get(step.layer);
    if (before && before.status === step.status && now - before.at < progressEveryMs) return;
    last.set(step.layer, { status: step.status, at: now });
    const bytes = step.total === undefined ? "" : ` ${step.current ?? 0}/${step.total} bytes`;
    options.tell(activity("pulling", subject, `${image}: ${step.layer ? `${step.layer} ` : ""}${step.status}${bytes}`, { image, ...step }));
  });
  await pulled.catch((error: unknown) => {
    // Not on the host and not to be had: whatever the registry said, the client's image is not found.
    throw new FlowError("not_found", `image ${image} is not on the host and could not be pulled: ${errorMessage(error)}`, { field: "image", image });
  });
  options.tell(activity("pulled", subject, `pulled ${image}`, { image }));
}
