import * as v from "valibot";
import { parsedBy } from "./_parse.ts";
import { quote, show } from "./_quote.ts";
import { writtenAs } from "./spec.ts";

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** setTimeout fires at once for longer delays (a 32-bit signed int of milliseconds, about 24.8 days). */
const maxMs = 2 ** 31 - 1;

/**
 * Parse `500ms`, `60s`, `1.5m`, `5h`, or a bare integer number of seconds (`300`, as a number or
 * a string from env/flags) into milliseconds. Throws a plain Error naming the value.
 */
export function parseDuration(value: string | number): number {
  let ms: number;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`${value} is not a duration (a bare number means whole seconds)`);
    ms = value * 1000;
  } else {
    const match = /^([0-9]{1,12}(?:\.[0-9]{1,6})?)(ms|s|m|h)?$/.exec(value);
    if (match === null) throw new Error(`${quote(value)} is not a duration (e.g. "500ms", "60s", "5m", "1h" or seconds)`);
    const unit = (match[2] ?? "s") as keyof typeof unitMs;
    if (match[2] === undefined && match[1]?.includes(".")) {
      throw new Error(`${quote(value)} is not a duration (a bare number means whole seconds)`);
    }
    ms = Math.round(Number(match[1]) * unitMs[unit]);
  }
  const shown = typeof value === "number" ? String(value) : quote(value);
  if (ms <= 0) throw new Error(`${shown} must be longer than 0`);
  if (ms > maxMs) throw new Error(`${shown} is too long (at most about 24 days)`);
  return ms;
}

/** Milliseconds as a person would write them: the largest unit that divides evenly (`300000` -> `5m`). */
export function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"] as const) {
    if (ms % unitMs[unit] === 0) return `${ms / unitMs[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration (string or whole seconds) parsed into milliseconds. */
export const durationSchema = writtenAs(
  v.pipe(v.union([v.string(), v.number()], (issue) => `must be a duration like "5m" (got ${show(issue.input)})`), parsedBy(parseDuration)),
  formatDuration,
);
