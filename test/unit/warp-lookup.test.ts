/** WarpLookup: one inspect of a warp container serves a burst of targets, never past an event about it. */
import { describe, expect, test } from "bun:test";
import type { ObservedContainer } from "../../src/docker/types.ts";
import { WarpLookup } from "../../src/modes/warp/_warp-lookup.ts";

function counting(answer: (name: string, call: number) => Partial<ObservedContainer> | undefined | Error, freshMs?: number) {
  const calls: string[] = [];
  const lookup = new WarpLookup(async (name) => {
    calls.push(name);
    const result = answer(name, calls.length);
    if (result instanceof Error) throw result;
    return result as ObservedContainer | undefined;
  }, freshMs);
  return { lookup, calls };
}

describe("WarpLookup", () => {
  test("targets asking for the same warp container while its answer is fresh share one inspect; later ones inspect again", async () => {
    const { lookup, calls } = counting((name, call) => ({ id: `id-${name}`, name, call } as never), 50);
    const answers = await Promise.all(Array.from({ length: 50 }, () => lookup.get("warp-1")));
    expect(calls).toEqual(["warp-1"]);
    expect(new Set(answers).size).toBe(1);
    expect(await lookup.get("warp-2")).toMatchObject({ name: "warp-2" });
    await Bun.sleep(60);
    expect(await lookup.get("warp-1")).toMatchObject({ call: 3 });
  });

  test("without a time limit (the daemon's), an answer serves until an event about the container", async () => {
    const { lookup, calls } = counting((name, call) => ({ id: `id-${name}`, name, call } as never));
    await lookup.get("warp-1");
    await Bun.sleep(30);
    expect(await lookup.get("warp-1")).toMatchObject({ call: 1 });
    lookup.forget("id-warp-1", []);
    expect(await lookup.get("warp-1")).toMatchObject({ call: 2 });
    expect(calls).toEqual(["warp-1", "warp-1"]);
  });

  test("an event about the container, by name or by id, and a resync make the next target inspect afresh", async () => {
    const { lookup, calls } = counting((name, call) => ({ id: `id-${name}`, name, call } as never));
    await lookup.get("warp-1");
    lookup.forget("some-target-id", ["some-target"]);
    await lookup.get("warp-1");
    expect(calls).toHaveLength(1);
    lookup.forget("other", ["warp-1"]);
    expect(await lookup.get("warp-1")).toMatchObject({ call: 2 });
    lookup.forget("id-warp-1", []); // a network event names only the id
    expect(await lookup.get("warp-1")).toMatchObject({ call: 3 });
    lookup.clear();
    expect(await lookup.get("warp-1")).toMatchObject({ call: 4 });
  });

  test("an inspect still in flight when an event with an id comes is not served after it; a failed one is not kept", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let n = 0;
    const lookup = new WarpLookup(async (name) => {
      const call = ++n;
      if (call === 1) await gate;
      if (call === 3) throw new Error("engine hiccup");
      return { id: `id-${name}`, name, n: call } as never;
    });
    const first = lookup.get("warp-1");
    lookup.forget("id-warp-1", []); // its id is not known yet: it may be this one
    const second = await lookup.get("warp-1");
    release();
    expect(await first).toMatchObject({ n: 1 });
    expect(second).toMatchObject({ n: 2 });
    lookup.clear();
    await expect(lookup.get("warp-1")).rejects.toThrow("engine hiccup");
    expect(await lookup.get("warp-1")).toMatchObject({ n: 4 });
    expect(await lookup.get(undefined)).toBeUndefined();
  });
});
