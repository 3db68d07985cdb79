import { expect, test } from "bun:test";
import { createLogger } from "../../src/core/logger.ts";
import { CommandRelay } from "../../src/modes/flow/agent/_command-relay.ts";
import type { Frame } from "../../src/modes/flow/protocol/frames.ts";

/** What the relay sends for the lines `sh -c 'printf ...'` prints, in order. */
async function relayed(output: string): Promise<Frame[]> {
  const frames: Frame[] = [];
  const relay = new CommandRelay({ command: ["printf", "%s", output], log: createLogger("test"), send: (frame) => frames.push(frame) });
  expect(await relay.exited).toBe(0);
  return frames;
}

test("plain text is relayed as stdout without being parsed, and every JSON text is still read as JSON", async () => {
  const frames = await relayed(['y', 'tomorrow', '  123', '"text"', '[1,2]', '{"command":"tick","data":{"n":1}}', '\t{"data":2}', 'null', '-1', 'true', '{not json', 'x {"a":1}', ''].join("\n"));
  expect(frames).toEqual([
    { type: "event", command: "stdout", data: "y" },
    // Starts like JSON (`true`) but is not: still stdout.
    { type: "event", command: "stdout", data: "tomorrow" },
    { type: "event", command: "message", data: 123 },
    { type: "event", command: "message", data: "text" },
    { type: "event", command: "message", data: [1, 2] },
    { type: "event", command: "tick", data: { n: 1 } },
    { type: "event", command: "message", data: 2 },
    { type: "event", command: "message", data: null },
    { type: "event", command: "message", data: -1 },
    { type: "event", command: "message", data: true },
    { type: "event", command: "stdout", data: "{not json" },
    { type: "event", command: "stdout", data: "x {\"a\":1}" },
  ]);
});
