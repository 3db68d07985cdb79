import * as v from "valibot";
import { parseListen } from "../core/health-server.ts";
import { logFormats, logLevels, type LogFormat, type LogLevel } from "../core/logger.ts";
import { show } from "./_quote.ts";
import { durationSchema } from "./duration.ts";
import { parseRouteRule, routeRuleSchema, type RouteRule } from "./route-rule.ts";

/** What a target gets while its warp container is down: unreachable routes, or Docker's own route. */
export const gatewayDownActions = ["block", "restore"] as const;
export type GatewayDownAction = (typeof gatewayDownActions)[number];

/** The resolved configuration every mode reads. Durations are milliseconds. */
export type Config = {
  log: { level: LogLevel; format: LogFormat };
  docker: { host: string };
  /** `HOST:PORT` for /healthz and /metrics; empty: off. */
  metrics: { listen: string };
  warp: {
    container_pattern: string;
    label_prefix: string;
    routes: RouteRule[];
    on_gateway_down: GatewayDownAction;
    /** 0: no MTU lock on dockernet's routes. */
    mtu: number;
    resync_interval: number;
    verify_interval: number;
  };
  join: {
    container_name: string;
    env_vars: string[];
    label_prefixes: string[];
    drivers: string[];
    exclude_networks: string[];
    resync_interval: number;
    /** Log a failed network change and carry on, instead of exiting 1 for a clean restart. */
    keep_going: boolean;
  };
};

// Messages are written for the loader, which prefixes `section.key: ` and suffixes `(from SOURCE)`.
const string = () => v.string((issue) => `must be a string (got ${show(issue.input)})`);

function oneOf<const T extends readonly string[]>(options: T) {
  return v.picklist(options, (issue) => `${show(issue.input)} is not one of ${options.join(", ")}`);
}

function matching(pattern: RegExp, what: string) {
  return v.pipe(
    string(),
    v.check((value) => value.length <= 256, (issue) => `${show(issue.input)} is too long (at most 256 characters)`),
    v.check((value) => pattern.test(value), (issue) => `${show(issue.input)} is not ${what}`),
  );
}

function list<T extends v.GenericSchema>(item: T, options: { nonEmpty?: boolean } = {}) {
  return v.pipe(
    v.array(item, (issue) => `must be an array of strings (got ${show(issue.input)})`),
    v.check((items) => !options.nonEmpty || items.length > 0, "must not be empty"),
  );
}

/** Names of networks, drivers, label prefixes: anything printable without spaces. */
const name = matching(/^[^\s\u0000-\u001f\u007f]+$/, "a name (no spaces or control characters)");

/** An MTU for `mtu lock` (576 to 9216; 0 turns it off), as a number or a numeric string from env/flags. */
export const mtuSchema = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^\d{1,5}$/), v.transform(Number))], (issue) => `${show(issue.input)} is not an MTU (a number)`),
  v.check((mtu) => mtu === 0 || (Number.isInteger(mtu) && mtu >= 576 && mtu <= 9216), (issue) => `${show(issue.input)} is not an MTU between 576 and 9216 (or 0 for none)`),
);

/** A boolean, or `true`/`false` as env and flags write it. */
const booleanSchema = v.union(
  [v.boolean(), v.pipe(v.picklist(["true", "false"]), v.transform((text) => text === "true"))],
  (issue) => `${show(issue.input)} is not true or false`,
);

export const logSchema = v.strictObject({ level: oneOf(logLevels), format: oneOf(logFormats) });

export const dockerSchema = v.strictObject({
  host: matching(/^(unix|tcp|ssh|http|https):\/\/[^\s\u0000-\u001f\u007f]+$/, "a Docker host URL (unix://, tcp://, ssh://, http(s)://)"),
});

export const metricsSchema = v.strictObject({
  listen: v.pipe(
    string(),
    v.check((value) => {
      if (value === "") return true;
      try {
        parseListen(value);
        return true;
      } catch {
        return false;
      }
    }, (issue) => `${show(issue.input)} is not HOST:PORT, [IPv6]:PORT or PORT (or "" for off)`),
  ),
});

export const warpSchema = v.strictObject({
  // Docker container names are [a-zA-Z0-9][a-zA-Z0-9_.-]*, so any other character could never match.
  container_pattern: matching(/^[a-zA-Z0-9_.*?-]+$/, "a glob of container-name characters, * and ?"),
  label_prefix: matching(/^[a-z0-9][a-z0-9._-]*$/, "a label prefix (lower case letters, digits, . _ -)"),
  routes: list(routeRuleSchema, { nonEmpty: true }),
  on_gateway_down: oneOf(gatewayDownActions),
  mtu: mtuSchema,
  resync_interval: durationSchema,
  verify_interval: durationSchema,
});

export const joinSchema = v.strictObject({
  container_name: matching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "a container name"),
  env_vars: list(matching(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")),
  label_prefixes: list(name),
  drivers: list(name, { nonEmpty: true }),
  exclude_networks: list(name),
  resync_interval: durationSchema,
  keep_going: booleanSchema,
});

/** One schema per section; the loader validates key by key through `.entries` to know each value's source. */
export const sectionSchemas = { log: logSchema, docker: dockerSchema, metrics: metricsSchema, warp: warpSchema, join: joinSchema } as const;

export type Section = keyof Config;

/** The whole config in file form (all keys present), for edges that hold a complete config. */
export const configSchema = v.strictObject(sectionSchemas);

// Keep the hand-written Config and the schemas in step.
true satisfies v.InferOutput<typeof configSchema> extends Config ? true : false;

export const defaults: Config = {
  log: { level: "info", format: "pretty" },
  docker: { host: "unix:///var/run/docker.sock" },
  metrics: { listen: "" },
  warp: {
    container_pattern: "warp-*",
    label_prefix: "network.warp",
    routes: [parseRouteRule("0.0.0.0/0")],
    on_gateway_down: "block",
    mtu: 0,
    resync_interval: 300_000,
    verify_interval: 60_000,
  },
  join: {
    container_name: "http-proxy",
    env_vars: ["VIRTUAL_HOST"],
    label_prefixes: ["traefik."],
    drivers: ["bridge"],
    exclude_networks: [],
    resync_interval: 300_000,
    keep_going: false,
  },
};
