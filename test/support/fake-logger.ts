import type { LogFields, Logger } from "../../src/core/logger.ts";

/** A log line a fake logger kept. */
export interface LogLine {
  level: string;
  message: string;
  fields?: LogFields;
}

/** A logger that keeps its lines, for assertions. */
export function fakeLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  return { lines, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug"), trace: at("trace"), withTag: () => fakeLogger(lines) };
}
