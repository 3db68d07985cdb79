/**
 * The API's request payloads, validated at the edge: every request is parsed here into a typed
 * value, and a bad one is answered with `validation_error` naming the field, before anything runs.
 */
import * as v from "valibot";
import { requestedLimitsSchema } from "./limits.ts";
import { FlowError } from "./replies.ts";

const text = (max: number, what: string) =>
  v.pipe(
    v.string(`must be ${what}`),
    v.maxLength(max, `must be at most ${max} characters`),
    v.check((value) => !/[\u0000-\u001f\u007f]/.test(value), "must not contain control characters"),
  );

/** A container: its full id, a unique id prefix of at least 12 characters, or its name. */
const containerId = v.pipe(text(128, "a container id or name"), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a container id or name"));
const containerName = v.pipe(text(128, "a container name"), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)"));
const image = v.pipe(text(256, "an image reference"), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/, "must be an image reference such as busybox:latest"));
const absolutePath = v.pipe(text(4096, "an absolute path"), v.startsWith("/", "must be an absolute path"));
const envName = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"));
const port = v.pipe(v.number("must be a port number"), v.integer("must be a port number"), v.minValue(1, "must be 1-65535"), v.maxValue(65535, "must be 1-65535"));

/** A path in a Docker bind (`host:container:mode`): a colon in it would be read as a separator. */
const bindPath = v.pipe(absolutePath, v.check((value) => !value.includes(":"), "must not contain a colon"));
const volume = v.union(
  [bindPath, v.strictObject({ bind: bindPath, mode: v.optional(v.picklist(["ro", "rw"], 'must be "ro" or "rw"')) })],
  'must be a path inside the container, or { bind, mode: "ro" | "rw" }',
);

const withId = { container_id: containerId };
/** Ports one container may publish. */
export const maxPorts = 64;

export const schemas = {
  create_container: v.strictObject({
    image,
    name: v.optional(containerName),
    /** `{ NAME: value }`. */
    environment: v.optional(v.pipe(v.record(envName, text(32_768, "a string")), v.check((env) => Object.keys(env).length <= 256, "must have at most 256 variables"))),
    /** `{ "/host/path": "/in/container" }` or `{ "/host/path": { bind, mode } }`; host paths must lie under a volume root. */
    volumes: v.optional(v.pipe(v.record(bindPath, volume), v.check((volumes) => Object.keys(volumes).length <= 64, "must have at most 64 volumes"))),
    /** `{ "80/tcp": 8080 }`: container port -> host port (null: any free port). */
    ports: v.optional(
      v.pipe(
        v.record(
          v.pipe(
            v.string(),
            v.regex(/^\d{1,5}(\/(tcp|udp))?$/, 'must be a container port such as "80/tcp"'),
            v.check((key) => Number(key.split("/")[0]) >= 1 && Number(key.split("/")[0]) <= 65535, "must be a container port 1-65535"),
          ),
          v.nullable(port),
        ),
        v.check((ports) => Object.keys(ports).length <= maxPorts, `must have at most ${maxPorts} entries`),
      ),
    ),
    /** `{ memory, cpus, pids }`; each left out comes from `flow.default_limits`, none may pass `flow.max_limits`. */
    limits: v.optional(requestedLimitsSchema),
    /** An argument array: no shell is involved. */
    command: v.optional(v.pipe(v.array(text(32_768, "a string"), "must be an array of strings (no shell: one element per argument)"), v.maxLength(1024, "must have at most 1024 elements"))),
    working_dir: v.optional(absolutePath),
  }),
  start_container: v.strictObject(withId),
  stop_container: v.strictObject(withId),
  restart_container: v.strictObject(withId),
  delete_container: v.strictObject(withId),
  update_container: v.strictObject({ ...withId, code_path: absolutePath }),
  send_message: v.strictObject({
    ...withId,
    message: v.strictObject({ command: v.pipe(text(256, "a command name"), v.minLength(1, "must not be empty")), data: v.optional(v.unknown()) }),
    timeout_ms: v.optional(v.pipe(v.number("must be a number of milliseconds"), v.integer("must be whole milliseconds"), v.minValue(1, "must be at least 1"), v.maxValue(600_000, "must be at most 600000 (10 min)"))),
  }),
  get_status: v.strictObject(withId),
  list_containers: v.strictObject({}),
  subscribe: v.strictObject(withId),
  unsubscribe: v.strictObject(withId),
  logs: v.strictObject({
    ...withId,
    tail: v.optional(v.pipe(v.number("must be a number of lines"), v.integer("must be a whole number"), v.minValue(0, "must be at least 0"), v.maxValue(100_000, "must be at most 100000"))),
    follow: v.optional(v.boolean("must be true or false")),
  }),
} as const;

export type RequestName = keyof typeof schemas;
export type Payload<R extends RequestName> = v.InferOutput<(typeof schemas)[R]>;

export const requestNames = Object.keys(schemas) as RequestName[];

function fieldOf(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? []).map((item) => String(item.key)).join(".");
  return path === "" ? "payload" : path;
}

/**
 * What is wrong with one field, in our words: valibot's own messages for unknown or missing keys
 * quote the value received, and a value may be a secret. A missing key is reported with no input;
 * an input that is there but no object (a string for the payload or `message`) is not "required".
 */
function problem(issue: v.BaseIssue<unknown>): string {
  if (issue.type === "strict_object") return issue.expected === "never" ? "is not a known field" : issue.input === undefined ? "is required" : "must be an object";
  return issue.message;
}

/** The payload of `request` as its type; a FlowError validation_error naming the first bad field otherwise. */
export function parsePayload<R extends RequestName>(request: R, payload: unknown): Payload<R> {
  // valibot's objects take arrays (they are objects to JavaScript); a payload is a JSON object.
  if (Array.isArray(payload)) throw new FlowError("validation_error", `${request}: payload must be an object`, { field: "payload", issues: [{ field: "payload", message: "must be an object" }] });
  // A request without a payload is an empty one (list_containers).
  const result = v.safeParse(schemas[request], payload ?? {});
  if (result.success) return result.output as Payload<R>;
  const issues = result.issues.slice(0, 5).map((issue) => ({ field: fieldOf(issue), message: problem(issue) }));
  const first = issues[0] ?? { field: "payload", message: "is invalid" };
  throw new FlowError("validation_error", `${request}: ${first.field} ${first.message}`, { field: first.field, issues });
}
