/**
 * dockernet's JIT policy (src/core/runtime.ts): JavaScriptCore is made reluctant to compile,
 * except in daemons that run a service (flow, bridge) and in actions that relay streams.
 * test/integration/join-run.test.ts and flow.test.ts check the policy a real daemon sets.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { normalJitPolicy, reluctantJitPolicy } from "../../src/core/runtime.ts";
import { daemonJitPolicy } from "../../src/modes/daemon.ts";
import { findMode, modes } from "../../src/modes/registry.ts";
import type { AnyMode } from "../../src/modes/types.ts";
import { exec } from "../support/_exec.ts";

const mode = (name: string) => findMode(name) as AnyMode;

test("a daemon of reconcilers alone stays reluctant to compile; a service in it sets the normal policy", () => {
  expect(reluctantJitPolicy).toBeGreaterThan(normalJitPolicy);
  expect(daemonJitPolicy([mode("warp")])).toBe(reluctantJitPolicy);
  expect(daemonJitPolicy([mode("join")])).toBe(reluctantJitPolicy);
  expect(daemonJitPolicy([mode("warp"), mode("join")])).toBe(reluctantJitPolicy);
  expect(daemonJitPolicy([mode("warp"), mode("flow")])).toBe(normalJitPolicy);
  expect(daemonJitPolicy([mode("bridge")])).toBe(normalJitPolicy);
  expect(daemonJitPolicy([mode("flow")])).toBe(normalJitPolicy);
});

test("the actions that run as long as a stream lasts are flow's call, watch and agent", () => {
  const relaying = modes.flatMap((entry) => Object.entries(entry.actions ?? {}).filter(([, action]) => action.relaysStreams).map(([name]) => `${entry.name} ${name}`));
  expect(relaying).toEqual(["flow call", "flow watch", "flow agent"]);
});

test("setJitPolicy reaches JavaScriptCore: a function called 1000 times is optimized under the normal policy, not under dockernet's", async () => {
  // In a process of its own: the policy holds for the whole VM, and this one runs the other tests.
  const probe = (scale: number) => `
    import { numberOfDFGCompiles } from "bun:jsc";
    import { setJitPolicy } from ${JSON.stringify(join(import.meta.dir, "../../src/core/runtime.ts"))};
    if (!setJitPolicy(${scale})) throw new Error("no JIT policy under bun?");
    function hot(x) { let sum = 0; for (let i = 0; i < 4; i++) sum += i * x; return sum; }
    // The optimizing compiler runs on a thread of its own: short pauses, and a long one at the end.
    // 1000 calls: with bun 1.4 on x64 the normal policy optimizes it after 200 to 300, dockernet's
    // after 1500 to 1800.
    for (let round = 0; round < 10; round++) { for (let i = 0; i < 100; i++) hot(i); await Bun.sleep(2); }
    await Bun.sleep(200);
    console.log(numberOfDFGCompiles(hot));
  `;
  // JavaScriptCore's own switches (BUN_JSC_useDFGJIT=0...) would decide for the policy.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("BUN_JSC_")));
  const compiles = async (scale: number) => Number((await exec(process.execPath, ["-e", probe(scale)], { env })).stdout.trim());
  expect(await compiles(normalJitPolicy)).toBeGreaterThan(0);
  expect(await compiles(reluctantJitPolicy)).toBe(0);
});
