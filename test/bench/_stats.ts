/** Small statistics helpers for the benchmarks. */

/** The q-th quantile (0..1) of `values`, nearest-rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

export function ratio(value: number, base: number): string {
  return `${(value / base).toFixed(2)}x`;
}

/** Prints a line `name: value` aligned, and returns it for a summary. */
export function report(name: string, value: string): string {
  const line = `${name.padEnd(48)} ${value}`;
  console.log(line);
  return line;
}
