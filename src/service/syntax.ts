import { usageError } from "../core/errors.ts";

/**
 * One word of an `ExecStart=` command line, written so that systemd reads it back unchanged
 * (systemd.service(5), "Command lines"): `%` starts a specifier and `$` an environment variable
 * everywhere, so both are doubled; a word with a space, quote or backslash is double-quoted with
 * C-style escapes. Control characters (a newline would end the line) are refused.
 */
export function execWord(word: string): string {
  if (word === "" || /[\x00-\x1f\x7f]/.test(word)) {
    throw usageError(`${JSON.stringify(word)} cannot be written into a systemd unit (empty, or a control character)`);
  }
  const literal = word.replaceAll("%", "%%").replaceAll("$", "$$$$");
  if (/^[\w@%+=:,./$-]+$/.test(literal)) return literal;
  return `"${literal.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

const spans = [
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1000],
  ["ms", 1],
] as const;

/**
 * Milliseconds as a systemd time span (systemd.time(7)) in the largest unit that divides them:
 * `300000` -> `5min`. Not `5m`: systemd reads that as minutes too, but `min` is unambiguous to a
 * reader who knows `M` means months.
 */
export function systemdTimeSpan(ms: number): string {
  for (const [unit, size] of spans) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
