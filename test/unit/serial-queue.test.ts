import { describe, expect, test } from "bun:test";
import { KeyedSerialQueue, SerialQueue } from "../../src/core/serial-queue.ts";

/** A promise the test opens when it chooses. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe("SerialQueue", () => {
  test("runs tasks one at a time, in the order asked", async () => {
    const queue = new SerialQueue();
    const seen: string[] = [];
    const first = gate();
    const a = queue.run(async () => {
      seen.push("a start");
      await first.opened;
      seen.push("a end");
      return 1;
    });
    const b = queue.run(async () => {
      seen.push("b");
      return 2;
    });
    await Promise.resolve();
    expect(seen).toEqual(["a start"]);
    expect(queue.busy).toBe(true);
    first.open();
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(seen).toEqual(["a start", "a end", "b"]);
    expect(queue.busy).toBe(false);
  });

  test("a failure fails its own caller only", async () => {
    const queue = new SerialQueue();
    const failed = queue.run(async () => {
      throw new Error("no");
    });
    const next = queue.run(async () => "ran");
    await expect(failed).rejects.toThrow("no");
    expect(await next).toBe("ran");
  });
});

describe("KeyedSerialQueue", () => {
  test("serial per key, side by side across keys, keys dropped when dry", async () => {
    const queue = new KeyedSerialQueue();
    const seen: string[] = [];
    const held = gate();
    const a1 = queue.run("a", async () => {
      await held.opened;
      seen.push("a1");
    });
    const a2 = queue.run("a", async () => void seen.push("a2"));
    const b1 = queue.run("b", async () => void seen.push("b1"));
    await b1;
    expect(seen).toEqual(["b1"]);
    expect(queue.keys()).toEqual(["a"]);
    held.open();
    await Promise.all([a1, a2]);
    expect(seen).toEqual(["b1", "a1", "a2"]);
    expect(queue.keys()).toEqual([]);
  });
});
