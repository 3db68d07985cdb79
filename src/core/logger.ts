import { createConsola, type ConsolaInstance } from "consola";

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
const rank: Record<Exclude<LogLevel, "silent">, number> = { error: 0, warn: 1, info: 3, debug: 4, trace: 5 };

const state: { level: LogLevel; format: LogFormat; consola: ConsolaInstance } = {
  level: "info",
  format: "pretty",
  // Logs go to stderr so that `status --json` and `--dry-run` output on stdout stays machine-readable.
  consola: createConsola({ level: consolaLevel.info, stdout: process.stderr, stderr: process.stderr }),
};

/** Set the level and format of every logger, once, from the resolved config. */
export function configureLogging(options: { level: LogLevel; format: LogFormat }): void {
  state.level = options.level;
  state.format = options.format;
  state.consola = createConsola({
    level: consolaLevel[options.level],
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: true, colors: process.stderr.isTTY === true },
  });
}

export function currentLogLevel(): LogLevel {
  return state.level;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return /^[\w.:/@%+-]+$/.test(text ?? "") ? (text ?? "") : JSON.stringify(text);
}

function emit(tag: string, level: Exclude<LogLevel, "silent">, message: string, fields?: LogFields): void {
  if (state.level === "silent" || rank[level] > rank[state.level]) return;
  if (state.format === "json") {
    const line: LogFields = { time: new Date().toISOString(), level, tag, msg: message };
    for (const [key, value] of Object.entries(fields ?? {})) {
      line[key] = value instanceof Error ? value.message : value;
    }
    process.stderr.write(`${JSON.stringify(line)}\n`);
    return;
  }
  const suffix = Object.entries(fields ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(" ");
  state.consola.withTag(tag)[level](suffix ? `${message} ${suffix}` : message);
}

/** A logger tagged with the name of the mode or module that logs. */
export function createLogger(tag: string): Logger {
  return {
    error: (message, fields) => emit(tag, "error", message, fields),
    warn: (message, fields) => emit(tag, "warn", message, fields),
    info: (message, fields) => emit(tag, "info", message, fields),
    debug: (message, fields) => emit(tag, "debug", message, fields),
    trace: (message, fields) => emit(tag, "trace", message, fields),
    withTag: (next) => createLogger(next),
  };
}
