import * as v from "valibot";
import { durationSchema } from "../../config/duration.ts";
import { booleanSchema, containerName, list, matching, name } from "../../config/schema.ts";
import { section } from "../../config/spec.ts";

/** The `[join]` section. Durations are milliseconds. */
export const joinSection = section(
  v.strictObject({
    container_name: containerName,
    env_vars: list(matching(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")),
    label_prefixes: list(name),
    drivers: list(name, { nonEmpty: true }),
    exclude_networks: list(name),
    resync_interval: durationSchema,
    /** Log a failed network change and carry on, instead of exiting 1 for a clean restart. */
    keep_going: booleanSchema,
  }),
  {
    container_name: "http-proxy",
    env_vars: ["VIRTUAL_HOST"],
    label_prefixes: ["traefik."],
    drivers: ["bridge"],
    exclude_networks: [],
    resync_interval: 300_000,
    keep_going: false,
  },
);

/** The resolved `[join]` section. */
export type JoinConfig = v.InferOutput<typeof joinSection.schema>;
