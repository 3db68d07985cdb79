import * as v from "valibot";
import { show } from "../../config/_quote.ts";
import { durationSchema } from "../../config/duration.ts";
import { list, listenSchema, matching, name } from "../../config/schema.ts";
import { section, writtenAs } from "../../config/spec.ts";
import { formatLimits, limitsSchema, parseLimitsText } from "./protocol/limits.ts";

/** An absolute path without control characters; `..` is resolved where it is used. */
const absolutePath = matching(/^\/[^\u0000-\u001f\u007f]*$/, "an absolute path");

/** Limits as a TOML table `{ memory = "1g", cpus = 1, pids = 1024 }`, or `memory=1g,cpus=1,pids=1024`. */
const limits = writtenAs(
  v.pipe(
    v.union([v.string(), v.record(v.string(), v.unknown())], (issue) => `must be { memory, cpus, pids } or "memory=1g,cpus=1,pids=1024" (got ${show(issue.input)})`),
    v.rawTransform<string | Record<string, unknown>, unknown>(({ dataset, addIssue, NEVER }) => {
      if (typeof dataset.value !== "string") return dataset.value;
      try {
        return parseLimitsText(dataset.value);
      } catch (error) {
        addIssue({ message: (error as Error).message });
        return NEVER;
      }
    }),
    limitsSchema,
  ),
  formatLimits,
);

/** The `[flow]` section. Durations are milliseconds. */
export const flowSection = section(
  v.strictObject({
    /** Where `flow serve` listens (HTTP, Socket.IO and the page); loopback unless told. */
    listen: v.pipe(listenSchema, v.check((value) => value !== "", "must not be empty (flow serve needs an address)")),
    /** Where `flow call` and `flow watch` connect; empty: http:// the `listen` address. */
    url: v.pipe(
      v.string(),
      v.check((value) => value === "" || /^https?:\/\/[^\s]+$/.test(value), (issue) => `${show(issue.input)} is not an http:// or https:// URL`),
    ),
    /** Holds one directory per container, with that container's socket. */
    socket_dir: absolutePath,
    /** The API token; generated (random, mode 0600) at first start when the file is absent. */
    token_file: absolutePath,
    /** Host directories under which `volumes` may lie; none: volumes are refused. */
    volume_roots: list(absolutePath),
    /** Host directories under which `update_container`'s `code_path` may lie; none: refused. */
    code_roots: list(absolutePath),
    /** Where `update_container` puts the code inside the container. */
    code_dir: absolutePath,
    /** The host address published ports bind to. */
    publish_address: matching(/^[0-9a-fA-F.:]+$/, "an IP address"),
    /** Origins allowed for browser connections besides the page the server itself serves. */
    allowed_origins: list(matching(/^https?:\/\/[^\s/]+$/, "an origin such as http://127.0.0.1:7780")),
    /** How long `send_message` waits for a container's answer unless the request says. */
    request_timeout: durationSchema,
    /** The owner label's value: a manager sees only the containers labelled with its instance. */
    instance: name,
    /** Limits of a container whose `create_container` names none (each one it leaves out). */
    default_limits: limits,
    /** The most a client may ask for; a request above is `forbidden`. */
    max_limits: limits,
    /** Containers this instance may have at once. */
    max_containers: v.pipe(
      v.union([v.number(), v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number))], (issue) => `must be a number (got ${show(issue.input)})`),
      v.integer("must be a whole number"),
      v.minValue(1, "must be at least 1"),
    ),
    /** An image the engine lacks: `missing` pulls it (progress as activity), `never` answers not_found. */
    pull: v.picklist(["missing", "never"], (issue) => `${show(issue.input)} is not missing or never`),
    /** `uid:gid` that owns the files update_container copies (setuid and setgid bits are dropped). */
    code_owner: matching(/^\d{1,10}:\d{1,10}$/, "uid:gid, such as 0:0"),
  }),
  {
    listen: "127.0.0.1:7780",
    url: "",
    socket_dir: "/run/dockernet/flow",
    token_file: "/etc/dockernet/flow.token",
    volume_roots: [],
    code_roots: [],
    code_dir: "/app",
    publish_address: "127.0.0.1",
    allowed_origins: [],
    request_timeout: 30_000,
    instance: "default",
    default_limits: { memory: 1024 ** 3, cpus: 1, pids: 1024 },
    max_limits: { memory: 8 * 1024 ** 3, cpus: 4, pids: 8192 },
    max_containers: 100,
    pull: "missing",
    code_owner: "0:0",
  },
);

/** The resolved `[flow]` section. */
export type FlowConfig = v.InferOutput<typeof flowSection.schema>;

/** The label that marks a container as this manager's (its value is `flow.instance`). */
export const ownerLabel = "dockernet.flow.owner";
/** The label naming a container's socket directory under `flow.socket_dir`. */
export const socketDirLabel = "dockernet.flow.socket-dir";
/** Where a container's socket directory is mounted inside it. */
export const socketMount = "/run/dockernet-flow";
/** What DOCKERNET_FLOW_SOCKET says inside the container: a link to `<id>.sock` beside it. */
export const socketInside = `${socketMount}/flow.sock`;
