import * as v from "valibot";
import { show } from "../../config/_quote.ts";
import { durationSchema } from "../../config/duration.ts";
import { parseRouteRule, routeRuleSchema } from "../../config/route-rule.ts";
import { list, matching, oneOf } from "../../config/schema.ts";
import { section } from "../../config/spec.ts";

/** What a target gets while its warp container is down: unreachable routes, or Docker's own route. */
export const gatewayDownActions = ["block", "restore"] as const;
export type GatewayDownAction = (typeof gatewayDownActions)[number];

/** An MTU for `mtu lock` (576 to 9216; 0 turns it off), as a number or a numeric string from env/flags. */
const mtuSchema = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^\d{1,5}$/), v.transform(Number))], (issue) => `${show(issue.input)} is not an MTU (a number)`),
  v.check((mtu) => mtu === 0 || (Number.isInteger(mtu) && mtu >= 576 && mtu <= 9216), (issue) => `${show(issue.input)} is not an MTU between 576 and 9216 (or 0 for none)`),
);

/** The `[warp]` section. Durations are milliseconds. */
export const warpSection = section(
  v.strictObject({
    // Docker container names are [a-zA-Z0-9][a-zA-Z0-9_.-]*, so any other character could never match.
    container_pattern: matching(/^[a-zA-Z0-9_.*?-]+$/, "a glob of container-name characters, * and ?"),
    label_prefix: matching(/^[a-z0-9][a-z0-9._-]*$/, "a label prefix (lower case letters, digits, . _ -)"),
    routes: list(routeRuleSchema, { nonEmpty: true }),
    on_gateway_down: oneOf(gatewayDownActions),
    /** 0: no MTU lock on dockernet's routes. */
    mtu: mtuSchema,
    resync_interval: durationSchema,
    verify_interval: durationSchema,
    /** The real runc the OCI runtime hands every call to (a name on the PATH, or a path). */
    runc: matching(/^[^\s\u0000-\u001f\u007f]+$/, "a program name or path (no spaces)"),
  }),
  {
    container_pattern: "warp-*",
    label_prefix: "network.warp",
    routes: [parseRouteRule("0.0.0.0/0")],
    on_gateway_down: "block",
    mtu: 0,
    resync_interval: 300_000,
    verify_interval: 60_000,
    runc: "runc",
  },
);

/** The resolved `[warp]` section. */
export type WarpConfig = v.InferOutput<typeof warpSection.schema>;
