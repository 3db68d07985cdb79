import { readFileSync, readlinkSync } from "node:fs";
import { DockernetError } from "../core/errors.ts";

/**
 * Checks, just before entering it, that `pid` is a process of container `containerId` and does
 * not share dockernet's own network namespace. A PID from inspect may have been reused by the
 * time nsenter runs, or name a process of another machine (an engine reached over tcp:// or
 * ssh://); without this check the routes meant for a container could land on the host.
 */
export async function assertContainerNetns(pid: number, containerId: string): Promise<void> {
  const refuse = (why: string) =>
    new DockernetError(`refusing to enter the network namespace of pid ${pid} for container ${containerId.slice(0, 12)}: ${why}`, {
      code: "NETNS_MISMATCH",
      hint: "warp must run on the same host as the engine it watches (a local unix:// socket)",
    });
  let cgroups: string;
  let theirs: string;
  let ours: string;
  try {
    // Read synchronously: three small /proc reads cost microseconds, while a trip through the
    // thread pool waits for an event-loop turn: several ms, and tens of ms in a burst of starts.
    cgroups = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    theirs = readlinkSync(`/proc/${pid}/ns/net`);
    ours = readlinkSync("/proc/self/ns/net");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      throw new DockernetError(`cannot read /proc/${pid}/ns/net of container ${containerId.slice(0, 12)}: permission denied`, {
        code: "NETNS_PERMISSION",
        hint: "warp needs root, or CAP_SYS_PTRACE, CAP_SYS_ADMIN and CAP_NET_ADMIN in the host PID namespace",
        cause: error,
      });
    }
    throw refuse("no such process on this host");
  }
  // Docker names a container's cgroup after its id, with either cgroup driver (/docker/<id>, docker-<id>.scope).
  if (!cgroups.includes(containerId)) throw refuse("the process is not in that container's cgroup");
  if (theirs === ours) throw refuse("it is dockernet's own network namespace");
}
