import type { FlagValues } from "../config/load.ts";
import { globalFlagValues } from "../config/globals.ts";
import type { ResolvedConfig } from "../config/load.ts";
import { configureLogging } from "../core/logger.ts";
import type { DockerClient } from "../docker/client.ts";
import { loadConfig, type Config } from "../modes/config.ts";

type GlobalFlags = { config?: string; "log-level"?: string; "log-format"?: string; "docker-host"?: string; "metrics-listen"?: string };

/** Loads the config from the global flags plus a mode's own flags, and sets up logging. */
export async function loadCommandConfig(args: GlobalFlags, modeFlags: FlagValues = {}): Promise<ResolvedConfig<Config>> {
  const flags: FlagValues = { ...globalFlagValues(args), metrics: { listen: args["metrics-listen"] }, ...modeFlags };
  const resolved = await loadConfig({ file: args.config, flags });
  configureLogging(resolved.config.log);
  return resolved;
}

/** The Docker client of the resolved config, checked to be reachable. */
export async function connectDocker(resolved: ResolvedConfig<Config>, options: { check?: boolean } = {}): Promise<DockerClient> {
  // Loaded here, not at the top: a command that talks to no engine (flow call, flow agent) loads no Docker code.
  const { DockerClient } = await import("../docker/client.ts");
  const client = new DockerClient(resolved.config.docker.host);
  if (options.check === false) return client;
  await client.ping();
  return client;
}
