import type { FlagValues } from "../config/load.ts";
import { globalFlagValues } from "../config/globals.ts";
import type { ResolvedConfig } from "../config/load.ts";
import { configureLogging } from "../core/logger.ts";
import { DockerClient } from "../docker/client.ts";
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
export async function connectDocker(resolved: ResolvedConfig<Config>): Promise<DockerClient> {
  const client = new DockerClient(resolved.config.docker.host);
  await client.ping();
  return client;
}
