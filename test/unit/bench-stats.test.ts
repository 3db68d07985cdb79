// The benchmarks' statistics (test/bench/_stats.ts): what their printed intervals rest on.
import { describe, expect, test } from "bun:test";
import { quantile, roundRatioInterval } from "../bench/_stats.ts";

/** `rounds` rounds of `size` latencies, each round shifted by its own engine state. */
function rounds(count: number, size: number, scale: number, seed: number): number[][] {
  let state = seed;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  return Array.from({ length: count }, () => {
    const engine = 10 + 30 * random();
    return Array.from({ length: size }, () => scale * engine * (0.5 + random()));
  });
}

describe("bench statistics", () => {
  test("quantile is nearest-rank", () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(quantile([], 0.5)).toBeNaN();
  });

  test("the ratio interval over rounds holds the true ratio, and a real difference is outside the other's", () => {
    const floor = rounds(12, 50, 1, 7);
    const same = rounds(12, 50, 1, 11);
    const slower = rounds(12, 50, 3, 11);
    const [lo, hi] = roundRatioInterval(same, floor, 0.5);
    expect(lo).toBeLessThan(1);
    expect(hi).toBeGreaterThan(1);
    const [slowLo, slowHi] = roundRatioInterval(slower, floor, 0.5);
    expect(slowLo).toBeGreaterThan(hi);
    expect(slowLo).toBeLessThan(3);
    expect(slowHi).toBeGreaterThan(3);
    // Rounds that share their engine state: drawn together, the ratio is narrow around the truth
    // (resampling each side's rounds on its own would give about 0.9-1.6x here).
    const shared = floor.map((round, index) => round.map((value, at) => value * 1.2 * (0.97 + 0.06 * (((index * 50 + at) * 7919) % 101) / 100)));
    const [pairedLo, pairedHi] = roundRatioInterval(shared, floor, 0.5);
    expect(pairedLo).toBeLessThan(1.2);
    expect(pairedHi).toBeGreaterThan(1.2);
    expect(pairedHi - pairedLo).toBeLessThan(0.1);
    // The same data gives the same interval.
    expect(roundRatioInterval(same, floor, 0.5)).toEqual([lo, hi]);
  });
});
