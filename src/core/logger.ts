// consola/core: the logging pipeline (levels, tags, reporters) without the fancy reporter and its
// terminal helpers, which cost a resident daemon about 12 MB.
import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from "consola/core";

export const logLevels = ["silent", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ["pretty", "json"] as const;
export type LogFormat = (typeof logFormats)[number];

/** Structured fields of a log line: `key=value` in pretty output, JSON properties in json output. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  trace(message: string, fields?: LogFields): void;
  /** The same logger with another tag (one tag per mode: `warp`, `join`, `docker`...). */
  withTag(tag: string): Logger;
}

const consolaLevel: Record<LogLevel, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };
const levelName: Record<string, string> = { error: "error", fatal: "error", warn: "warn", info: "info", success: "info", log: "info", debug: "debug", trace: "trace" };

function formatValue(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return /^[\w.:/@%+-]+$/.test(text) ? text : JSON.stringify(text);
}

function plainFields(fields: LogFields): LogFields {
  const plain: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) plain[key] = value instanceof Error ? value.message : value;
  }
  return plain;
}

// Logs go to stderr so that `status --json` and `--dry-run` output on stdout stays machine-readable.
const jsonReporter: ConsolaReporter = {
  log(entry: LogObject) {
    const [message, fields] = entry.args as [string, LogFields | undefined];
    const line = { time: entry.date.toISOString(), level: levelName[entry.type] ?? entry.type, tag: entry.tag, msg: message, ...plainFields(fields ?? {}) };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  },
};

/**
 * Whether to colour what goes to `stream`: on a terminal, unless NO_COLOR is set to anything
 * (no-color.org); FORCE_COLOR (other than 0) colours a pipe too.
 */
export function wantsColors(stream: { isTTY?: boolean }): boolean {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== "0") return true;
  if (process.env.NO_COLOR) return false;
  return stream.isTTY === true;
}

const colors: Record<string, string> = { error: "\x1b[31m", warn: "\x1b[33m", info: "\x1b[36m", debug: "\x1b[90m", trace: "\x1b[90m" };

const prettyReporter: ConsolaReporter = {
  log(entry: LogObject) {
    const [message, fields] = entry.args as [string, LogFields | undefined];
    const level = levelName[entry.type] ?? entry.type;
    const suffix = Object.entries(plainFields(fields ?? {}))
      .map(([key, value]) => ` ${key}=${formatValue(value)}`)
      .join("");
    const label = level.toUpperCase().padEnd(5);
    const shown = wantsColors(process.stderr) ? `${colors[level] ?? ""}${label}\x1b[0m` : label;
    process.stderr.write(`${state.timestamps ? `${entry.date.toISOString()} ` : ""}${shown} [${entry.tag}] ${message}${suffix}\n`);
  },
};

const state: { level: LogLevel; consola: ConsolaInstance; timestamps: boolean } = {
  level: "info",
  timestamps: true,
  // No throttle: consola would fold repeated identical lines into "(repeated N times)", and an
  // audit log keeps every line.
  consola: createConsola({ level: consolaLevel.info, reporters: [prettyReporter], throttle: 0 }),
};

/**
 * One consola instance per tag, made on its first line: consola's withTag copies the root's
 * options into a new instance on every call, which a line per Docker event made the daemon's
 * busiest work. Made again after configureLogging, so they take its level and reporters.
 */
const tagged = new Map<string, ConsolaInstance>();

/** Set the level and format of every logger, once, from the resolved config. */
export function configureLogging(options: { level: LogLevel; format: LogFormat }): void {
  state.level = options.level;
  state.consola.level = consolaLevel[options.level];
  state.consola.setReporters([options.format === "json" ? jsonReporter : prettyReporter]);
  tagged.clear();
}

/**
 * Pretty lines without a timestamp of their own: for a process whose output the supervisor
 * stamps line by line (the flow agent, whose lines Docker's log driver stamps), where a second
 * timestamp is noise. JSON lines keep their `time` field.
 */
export function omitTimestamps(): void {
  state.timestamps = false;
}

export function currentLogLevel(): LogLevel {
  return state.level;
}

/** A logger tagged with the name of the mode or module that logs. */
export function createLogger(tag: string): Logger {
  const log = (level: Exclude<LogLevel, "silent">) => (message: string, fields?: LogFields) => {
    // A line below the level costs a comparison, nothing more.
    if (consolaLevel[level] > consolaLevel[state.level]) return;
    let instance = tagged.get(tag);
    if (instance === undefined) tagged.set(tag, (instance = state.consola.withTag(tag)));
    instance[level](message, fields ?? {});
  };
  return { error: log("error"), warn: log("warn"), info: log("info"), debug: log("debug"), trace: log("trace"), withTag: createLogger };
}
