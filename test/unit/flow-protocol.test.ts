import { describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { FrameReader, type ReadItem } from "../../src/modes/flow/protocol/frame-reader.ts";
import { encodeFrame, frameSchema, maxFrameBytes, parseFrame, validFrame } from "../../src/modes/flow/protocol/frames.ts";

/** A JSON event frame line (no newline) of exactly `bytes` UTF-8 bytes. */
function lineOfBytes(bytes: number): string {
  const empty = JSON.stringify({ type: "event", command: "fill", data: "" });
  return JSON.stringify({ type: "event", command: "fill", data: "x".repeat(bytes - empty.length) });
}

function frames(items: ReadItem[]): unknown[] {
  return items.map((item) => (item.kind === "frame" ? item.frame : { kind: item.kind, error: item.error.message }));
}

describe("parseFrame", () => {
  test("takes the three kinds of frame; unknown keys are dropped, absent ones stay absent", () => {
    expect(parseFrame('{"id":"1","type":"request","command":"ping"}')).toEqual({ id: "1", type: "request", command: "ping" });
    expect(parseFrame('{"id":"1","type":"response","data":{"pong":true},"extra":1}')).toEqual({ id: "1", type: "response", data: { pong: true } });
    expect(parseFrame('{"id":"1","type":"response","error":"boom"}')).toEqual({ id: "1", type: "response", error: "boom" });
    expect(parseFrame('{"type":"event","command":"progress","data":[1,2]}')).toEqual({ type: "event", command: "progress", data: [1, 2] });
    expect(parseFrame('{"type":"request","id":"é😀","command":"x"}\r')).toEqual({ type: "request", id: "é😀", command: "x" });
  });

  const malformed: [string, string, RegExp][] = [
    ["not JSON", '{"type":"event",', /^frame is not JSON/],
    ["an array", "[1,2]", /not a JSON object but an array/],
    ["null", "null", /not a JSON object but null/],
    ["a number", "42", /not a JSON object but number/],
    ["no type", '{"id":"1"}', /a frame needs a type/],
    ["an unknown type", '{"id":"1","type":"reply"}', /type must be "request", "response" or "event", not "reply"/],
    ["a request without id", '{"type":"request","command":"ping"}', /a request needs an id/],
    ["a request with an empty id", '{"type":"request","id":"","command":"ping"}', /a request needs a non-empty id/],
    ["a request with a numeric id", '{"type":"request","id":7,"command":"ping"}', /a request needs an id \(a string\)/],
    ["a request without command", '{"type":"request","id":"1"}', /a request needs a command/],
    ["a response without id", '{"type":"response","data":1}', /a response needs an id/],
    ["an event without command", '{"type":"event","data":1}', /an event needs a command/],
    ["an event with a numeric id", '{"type":"event","command":"x","id":3}', /id must be a string/],
    ["an error that is not a string", '{"type":"response","id":"1","error":{"a":1}}', /error must be a string/],
    ["a command that is not a string", '{"type":"response","id":"1","command":5}', /command must be a string/],
  ];
  for (const [name, line, message] of malformed) {
    test(`refuses ${name}, saying so`, () => {
      expect(() => parseFrame(line)).toThrow(message);
    });
  }

  test("validFrame takes exactly what the schema takes, with the schema's keys in its order", () => {
    const absent = Symbol("absent");
    const choices = {
      type: [absent, "request", "response", "event", "reply", 1],
      id: [absent, "", "7", 7, null],
      command: [absent, "", "ping", 5, null],
      data: [absent, null, 0, "", { a: 1 }],
      error: [absent, "boom", "", null, { a: 1 }],
    };
    let compared = 0;
    const build = (keys: (keyof typeof choices)[], value: Record<string, unknown>): void => {
      const [key, ...rest] = keys;
      if (key === undefined) {
        const input = JSON.parse(JSON.stringify({ extra: true, ...value })) as Record<string, unknown>;
        const frame = validFrame(input);
        const expected = v.safeParse(frameSchema, input);
        expect({ input, ok: frame !== undefined }).toEqual({ input, ok: expected.success });
        if (frame && expected.success) expect(Object.entries(frame)).toEqual(Object.entries(expected.output));
        compared++;
        return;
      }
      for (const choice of choices[key]) build(rest, choice === absent ? value : { ...value, [key]: choice });
    };
    build(["error", "data", "command", "id", "type"], {});
    expect(compared).toBe(6 * 5 * 5 * 5 * 5);
  });

  test("refuses a line over the limit, naming its size", () => {
    expect(parseFrame(lineOfBytes(maxFrameBytes)).command).toBe("fill");
    expect(() => parseFrame(lineOfBytes(maxFrameBytes + 1))).toThrow(`frame is ${maxFrameBytes + 1} bytes, over the limit of ${maxFrameBytes}`);
  });
});

describe("encodeFrame", () => {
  test("is one line of JSON that parses back to the frame", () => {
    const frame = { id: "a1", type: "response", data: { text: "line\nbreak é" } } as const;
    const line = encodeFrame(frame);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(parseFrame(line.slice(0, -1))).toEqual(frame);
  });

  test("takes a frame of exactly 1 MiB (the newline not counted) and refuses one byte more", () => {
    expect(maxFrameBytes).toBe(1024 * 1024);
    const empty = encodeFrame({ type: "event", command: "fill", data: "" }).length - 1;
    expect(Buffer.byteLength(encodeFrame({ type: "event", command: "fill", data: "x".repeat(maxFrameBytes - empty) }))).toBe(maxFrameBytes + 1);
    expect(() => encodeFrame({ type: "event", command: "fill", data: "x".repeat(maxFrameBytes - empty + 1) })).toThrow(/over the limit of 1048576/);
  });

  test("counts UTF-8 bytes, not characters", () => {
    const empty = encodeFrame({ type: "event", command: "fill", data: "" }).length - 1;
    const twoByte = "é".repeat(Math.floor((maxFrameBytes - empty) / 2) + 1);
    expect(twoByte.length).toBeLessThan(maxFrameBytes);
    expect(() => encodeFrame({ type: "event", command: "fill", data: twoByte })).toThrow(/over the limit/);
  });
});

describe("FrameReader", () => {
  test("several frames in one chunk, and blank lines skipped", () => {
    const reader = new FrameReader();
    const input = `${encodeFrame({ id: "1", type: "response", data: 1 })}\n  \n${encodeFrame({ type: "event", command: "e" })}`;
    expect(frames(reader.push(input))).toEqual([{ id: "1", type: "response", data: 1 }, { type: "event", command: "e" }]);
    expect(reader.bufferedBytes).toBe(0);
  });

  test("a frame split across chunks, byte by byte, comes out once it is complete", () => {
    const reader = new FrameReader();
    const bytes = Buffer.from(encodeFrame({ id: "7", type: "request", command: "ping", data: { note: "ünïcödé ✓ 😀" } }));
    const out: ReadItem[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const items = reader.push(bytes.subarray(i, i + 1));
      if (i < bytes.length - 1) expect(items).toEqual([]);
      out.push(...items);
    }
    expect(frames(out)).toEqual([{ id: "7", type: "request", command: "ping", data: { note: "ünïcödé ✓ 😀" } }]);
  });

  test("multi-byte characters cut inside their UTF-8 sequence come out whole", () => {
    const text = "é😀中";
    const bytes = Buffer.from(encodeFrame({ type: "event", command: "say", data: text }));
    const emoji = bytes.indexOf(Buffer.from("😀"));
    // Cut after the first byte of "é"'s pair... and in the middle of the 4-byte emoji.
    const cuts = [bytes.indexOf(Buffer.from("é")) + 1, emoji + 1, emoji + 3];
    const reader = new FrameReader();
    const out: ReadItem[] = [];
    let start = 0;
    for (const cut of [...cuts, bytes.length]) {
      out.push(...reader.push(bytes.subarray(start, cut)));
      start = cut;
    }
    expect(frames(out)).toEqual([{ type: "event", command: "say", data: text }]);
    expect(JSON.stringify(frames(out))).not.toContain("\uFFFD");
  });

  test("a chunk's memory may be reused by the caller after push", () => {
    const reader = new FrameReader();
    const chunk = Buffer.from('{"type":"event","comm');
    reader.push(chunk);
    chunk.fill(0x20);
    expect(frames(reader.push('and":"kept"}\n'))).toEqual([{ type: "event", command: "kept" }]);
  });

  test("a malformed line is reported with its fault and the id it had; the next frame still reads", () => {
    const reader = new FrameReader();
    const items = reader.push('{"id":"9","type":"bogus"}\nnot json\n{"type":"event","command":"ok"}\n');
    expect(items[0]).toMatchObject({ kind: "invalid", id: "9", line: '{"id":"9","type":"bogus"}' });
    expect(items[0]?.kind === "invalid" && items[0].error.message).toMatch(/type must be/);
    expect(items[1]).toMatchObject({ kind: "invalid", line: "not json" });
    expect(items[1]?.kind === "invalid" && items[1].id).toBeUndefined();
    expect(frames(items.slice(2))).toEqual([{ type: "event", command: "ok" }]);
  });

  test("a line of exactly 1 MiB is a frame, even when it arrives in pieces", () => {
    const reader = new FrameReader();
    const line = lineOfBytes(maxFrameBytes);
    expect(reader.push(line.slice(0, 1000))).toEqual([]);
    expect(reader.push(line.slice(1000))).toEqual([]);
    expect(reader.bufferedBytes).toBe(maxFrameBytes);
    expect(frames(reader.push("\n"))).toEqual([parseFrame(line)]);
  });

  test("one byte over 1 MiB without a newline is an overflow at once, and nothing more is held", () => {
    const reader = new FrameReader();
    const line = lineOfBytes(maxFrameBytes + 1);
    expect(reader.push(line.slice(0, maxFrameBytes))).toEqual([]);
    const items = reader.push(line.slice(maxFrameBytes));
    expect(frames(items)).toEqual([{ kind: "overflow", error: `a line is longer than ${maxFrameBytes} bytes` }]);
    expect(reader.bufferedBytes).toBe(0);
    // More of the same long line is thrown away unheld, without another report.
    for (let i = 0; i < 3; i++) expect(reader.push("y".repeat(maxFrameBytes))).toEqual([]);
    expect(reader.bufferedBytes).toBe(0);
    // After its newline, lines read again (a caller that keeps the peer can go on).
    expect(frames(reader.push('tail"}\n{"type":"event","command":"next"}\n'))).toEqual([{ type: "event", command: "next" }]);
  });

  test("an over-long line that arrives complete with its newline is an overflow too", () => {
    const reader = new FrameReader();
    expect(frames(reader.push(`${lineOfBytes(maxFrameBytes + 1)}\n{"type":"event","command":"after"}\n`))).toEqual([
      { kind: "overflow", error: `a line is longer than ${maxFrameBytes} bytes` },
      { type: "event", command: "after" },
    ]);
  });

  test("a smaller cap, for the limits' arithmetic", () => {
    const reader = new FrameReader({ maxBytes: 30 });
    const exactly = '{"type":"event","command":"a"}';
    expect(Buffer.byteLength(exactly)).toBe(30);
    expect(frames(reader.push(`${exactly}\n`))).toEqual([{ type: "event", command: "a" }]);
    expect(frames(reader.push('{"type":"event","command":"ab"}'))).toEqual([{ kind: "overflow", error: "a line is longer than 30 bytes" }]);
  });
});
