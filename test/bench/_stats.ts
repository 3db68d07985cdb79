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

/** A small seeded generator (mulberry32): the same data gives the same interval on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * How far the ratio of two reactors' pooled `q`-quantiles could move with other rounds of the same
 * kind: a bootstrap over rounds (their latencies hang together within a round, as the engine does),
 * each resample drawing the same rounds of both, which ran one after the other in the same stretch
 * of the engine's life. Returns the 5th and 95th percentile of the ratio over `samples` resamples.
 * Rough with few rounds: a bootstrap over a dozen units or fewer tends to come out too narrow.
 */
export function roundRatioInterval(ours: number[][], base: number[][], q: number, samples = 1000): [number, number] {
  const rounds = Math.min(ours.length, base.length);
  if (rounds === 0) return [Number.NaN, Number.NaN];
  const next = seeded(rounds * 7919 + Math.round(q * 1000));
  const ratios: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const picked = Array.from({ length: rounds }, () => Math.floor(next() * rounds));
    const pooled = (per: number[][]) => picked.flatMap((round) => per[round] ?? []);
    ratios.push(quantile(pooled(ours), q) / quantile(pooled(base), q));
  }
  return [quantile(ratios, 0.05), quantile(ratios, 0.95)];
}
