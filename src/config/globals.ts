import type { FlagValues } from "./_flags.ts";

/** The global flags of every command (see src/cli/_args.ts) as flag values for loadConfig. */
export function globalFlagValues(args: { "log-level"?: string; "log-format"?: string; "docker-host"?: string }): FlagValues {
  return {
    log: { level: args["log-level"], format: args["log-format"] },
    docker: { host: args["docker-host"] },
  };
}
