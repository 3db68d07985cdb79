/** A CreateSpec as the engine's create call takes it. */
import type Docker from "dockerode";
import type { CreateSpec } from "./types.ts";

/** Create options with nothing but what the spec asks for: no privileges, capabilities or devices. */
export function createOptions(spec: CreateSpec): Docker.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of spec.ports) {
    const key = `${port.port}/${port.proto}`;
    exposed[key] = {};
    bindings[key] = [{ HostIp: port.hostIp, HostPort: port.hostPort ? String(port.hostPort) : "" }];
  }
  return {
    ...(spec.name ? { name: spec.name } : {}),
    Image: spec.image,
    Env: spec.env,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    Labels: spec.labels,
    ExposedPorts: exposed,
    HostConfig: {
      Binds: spec.binds,
      PortBindings: bindings,
      Privileged: false,
      CapAdd: [],
      Devices: [],
      ...(spec.limits ? { Memory: spec.limits.memory, NanoCpus: Math.round(spec.limits.cpus * 1e9), PidsLimit: spec.limits.pids } : {}),
    },
  };
}
