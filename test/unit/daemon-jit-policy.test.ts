/**
 * dockernet's JIT policy (src/core/runtime.ts, src/modes/daemon.ts): JavaScriptCore is made
 * reluctant to compile, except in daemons that run flow or bridge, which relay streams.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { daemonJitPolicy } from "../../src/modes/daemon.ts";
import { modes } from "../../src/modes/registry.ts";
import { normalJitPolicy, runOnceJitPolicy } from "../../src/core/runtime.ts";
import { exec } from "../support/_exec.ts";

const mode = (name: string) => modes.find((entry) => entry.name === name) as (typeof modes)[number];

test("a daemon of reconcilers alone stays reluctant to compile; flow or bridge in it sets the normal policy", () => {
  expect(runOnceJitPolicy).toBeGreaterThan(normalJitPolicy);
  expect(daemonJitPolicy([mode("warp")])).toBe(runOnceJitPolicy);
  expect(daemonJitPolicy([mode("join")])).toBe(runOnceJitPolicy);
  expect(daemonJitPolicy([mode("warp"), mode("join")])).toBe(runOnceJitPolicy);
  expect(daemonJitPolicy([mode("warp"), mode("flow")])).toBe(normalJitPolicy);
  expect(daemonJitPolicy([mode("bridge")])).toBe(normalJitPolicy);
  expect(daemonJitPolicy([mode("flow")])).toBe(normalJitPolicy);
});

test("setJitPolicy reaches JavaScriptCore: a function called 900 times is optimized under the normal policy, not under dockernet's", async () => {
  // In a process of its own: the policy holds for the whole VM, and this one runs the other tests.
  const probe = (scale: number) => `
    import { numberOfDFGCompiles } from "bun:jsc";
    import { setJitPolicy } from ${JSON.stringify(join(import.meta.dir, "../../src/core/runtime.ts"))};
    if (!setJitPolicy(${scale})) throw new Error("no JIT policy under bun?");
    function hot(x) { let sum = 0; for (let i = 0; i < 4; i++) sum += i * x; return sum; }
    // Pauses let the optimizing compiler, which runs on a thread of its own, finish: 900 calls in
    // all, past the normal threshold (reached after 400 to 800 here), far below 16 times it.
    for (let round = 0; round < 9; round++) { for (let i = 0; i < 100; i++) hot(i); await Bun.sleep(round === 7 ? 200 : 5); }
    console.log(numberOfDFGCompiles(hot));
  `;
  const compiles = async (scale: number) => Number((await exec(process.execPath, ["-e", probe(scale)])).stdout.trim());
  expect(await compiles(normalJitPolicy)).toBeGreaterThan(0);
  expect(await compiles(runOnceJitPolicy)).toBe(0);
});
