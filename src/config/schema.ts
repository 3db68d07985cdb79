/**
 * The building blocks of config schemas, and the sections every command shares (`[log]`,
 * `[docker]`, `[metrics]`). Each mode's own section lives in its folder (`modes/<mode>/config.ts`).
 * Messages are written for the loader, which prefixes `section.key: ` and suffixes `(from SOURCE)`.
 */
import * as v from "valibot";
import { readListen } from "../core/listen.ts";
import { logFormats, logLevels } from "../core/logger.ts";
import { show } from "./_quote.ts";
import { section, writeValue, writtenAs } from "./spec.ts";

/** A string, with a message that shows what was given instead. */
export const string = () => v.string((issue) => `must be a string (got ${show(issue.input)})`);

/** One of a fixed set of words. */
export function oneOf<const T extends readonly string[]>(options: T) {
  return v.picklist(options, (issue) => `${show(issue.input)} is not one of ${options.join(", ")}`);
}

/** A string of at most 256 characters matching `pattern`, described as `what` in messages. */
export function matching(pattern: RegExp, what: string) {
  return v.pipe(
    string(),
    v.check((value) => value.length <= 256, (issue) => `${show(issue.input)} is too long (at most 256 characters)`),
    v.check((value) => pattern.test(value), (issue) => `${show(issue.input)} is not ${what}`),
  );
}

/** An array of `item`; env and flags give it as `a,b` or a TOML array. Written back item by item. */
export function list<T extends v.GenericSchema>(item: T, options: { nonEmpty?: boolean } = {}) {
  const schema = v.pipe(
    v.array(item, (issue) => `must be an array of strings (got ${show(issue.input)})`),
    v.check((items) => !options.nonEmpty || items.length > 0, "must not be empty"),
  );
  return writtenAs(schema, (items) => items.map((each) => writeValue(item, each)));
}

/** Names of networks, drivers, label prefixes: anything printable without spaces. */
export const name = matching(/^[^\s\u0000-\u001f\u007f]+$/, "a name (no spaces or control characters)");

/** A Docker container name. */
export const containerName = matching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "a container name");

/** A boolean, or `true`/`false` as env and flags write it. */
export const booleanSchema = v.union(
  [v.boolean(), v.pipe(v.picklist(["true", "false"]), v.transform((text) => text === "true"))],
  (issue) => `${show(issue.input)} is not true or false`,
);

/** `HOST:PORT`, `[V6]:PORT` or `PORT` for a listener, or "" for off. */
export const listenSchema = v.pipe(
  string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value === "") return;
    const parsed = readListen(dataset.value);
    if (typeof parsed !== "string") return;
    const shape = parsed.startsWith("expected");
    addIssue({ message: shape ? `${show(dataset.value)} is not HOST:PORT, [IPv6]:PORT or PORT (or "" for off)` : `${show(dataset.value)}: ${parsed}` });
  }),
);

/** The sections of every command, before the modes' own. */
export const globalSections = {
  log: section(v.strictObject({ level: oneOf(logLevels), format: oneOf(logFormats) }), { level: "info", format: "pretty" }),
  docker: section(
    v.strictObject({
      host: matching(/^(unix|tcp|ssh|http|https):\/\/[^\s\u0000-\u001f\u007f]+$/, "a Docker host URL (unix://, tcp://, ssh://, http(s)://)"),
    }),
    { host: "unix:///var/run/docker.sock" },
  ),
  /** `HOST:PORT` for /healthz and /metrics; empty: off. */
  metrics: section(v.strictObject({ listen: listenSchema }), { listen: "" }),
};
