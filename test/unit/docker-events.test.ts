import { describe, expect, test } from "bun:test";
import { eventKey, LineSplitter, parseEvent, sinceParameter } from "../../src/docker/events.ts";

const appId = "7f3c2b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b";
const netId = "9b1d4e0c2f7a6b5d8e3c1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d";

// Lines as `GET /events` streams them (Docker 24: both the old `status`/`id` and the new fields).
const start =
  `{"status":"start","id":"${appId}","from":"busybox:latest","Type":"container","Action":"start",` +
  `"Actor":{"ID":"${appId}","Attributes":{"image":"busybox:latest","name":"app","network.warp.target":"warp-1"}},` +
  `"scope":"local","time":1718000000,"timeNano":1718000000123456789}`;
const die =
  `{"Type":"container","Action":"die","Actor":{"ID":"${appId}","Attributes":{"exitCode":"137","image":"busybox:latest","name":"app"}},` +
  `"scope":"local","time":1718000005,"timeNano":1718000005000000000}`;
const connect =
  `{"Type":"network","Action":"connect","Actor":{"ID":"${netId}","Attributes":{"container":"${appId}","name":"edge","type":"bridge"}},` +
  `"scope":"local","time":1718000001,"timeNano":1718000001000000000}`;
const execStart =
  `{"status":"exec_start: sh -c ip route show","id":"${appId}","Type":"container","Action":"exec_start: sh -c ip route show",` +
  `"Actor":{"ID":"${appId}","Attributes":{"execID":"e1","image":"busybox:latest","name":"app"}},"scope":"local","time":1718000002,"timeNano":1718000002000000000}`;

describe("parseEvent", () => {
  test("container start, with the container's labels in its attributes", () => {
    expect(parseEvent(start)).toMatchObject({
      type: "container",
      action: "start",
      id: appId,
      name: "app",
      attributes: { image: "busybox:latest", name: "app", "network.warp.target": "warp-1" },
    });
  });

  test("container die", () => {
    expect(parseEvent(die)).toEqual({
      type: "container",
      action: "die",
      id: appId,
      name: "app",
      attributes: { exitCode: "137", image: "busybox:latest", name: "app" },
      timeNano: 1718000005000000000n,
    });
  });

  test("network connect names the network, and the container in its attributes", () => {
    expect(parseEvent(connect)).toMatchObject({ type: "network", action: "connect", id: netId, name: "edge", attributes: { container: appId } });
  });

  test("an action with a suffix keeps only the action", () => {
    expect(parseEvent(execStart)?.action).toBe("exec_start");
    expect(parseEvent(`{"Type":"container","Action":"health_status: healthy","Actor":{"ID":"x","Attributes":{}}}`)?.action).toBe("health_status");
  });

  test("other event types, and the old format with status/id and seconds only", () => {
    expect(parseEvent(`{"Type":"volume","Action":"mount","Actor":{"ID":"v1","Attributes":{}},"time":1}`)).toMatchObject({ type: "other", action: "mount" });
    expect(parseEvent(`{"status":"stop","id":"${appId}","time":1718000009}`)).toEqual({
      type: "other",
      action: "stop",
      id: appId,
      name: "",
      attributes: {},
      timeNano: 1718000009000000000n,
    });
  });

  test("junk lines give undefined", () => {
    for (const line of ["", "not json", "{", '{"Type":"container",', "HTTP/1.1 200 OK"]) expect(parseEvent(line)).toBeUndefined();
  });

  test("a `null` line is junk, not a crash", () => {
    expect(() => parseEvent("null")).not.toThrow();
    expect(parseEvent("null")).toBeUndefined();
  });

  test("JSON that is not an object (number, string, array) is junk", () => {
    for (const line of ["42", '"start"', "[]"]) expect(parseEvent(line)).toBeUndefined();
  });

  test("timeNano is kept to the nanosecond, so `since=` replays from the exact event", () => {
    expect(parseEvent(start)?.timeNano).toBe(1718000000123456789n);
    // Rounding up would skip events of the same instant on replay.
    expect(parseEvent(start.replace("123456789", "123456900"))?.timeNano).toBe(1718000000123456900n);
  });
});

describe("sinceParameter", () => {
  test("seconds.nanoseconds, nanoseconds zero-padded to nine digits", () => {
    expect(sinceParameter(1718000000123456789n)).toBe("1718000000.123456789");
    expect(sinceParameter(1718000000000000001n)).toBe("1718000000.000000001");
    expect(sinceParameter(1718000000000000000n)).toBe("1718000000.000000000");
    expect(sinceParameter(999n)).toBe("0.000000999");
    expect(sinceParameter(0n)).toBe("0.000000000");
  });
});

describe("eventKey", () => {
  test("container events are keyed by the container", () => {
    expect(eventKey(parseEvent(start)!)).toBe(appId);
  });

  test("network connect/disconnect are keyed by the container they move, so they order with its other events", () => {
    expect(eventKey(parseEvent(connect)!)).toBe(appId);
  });

  test("other network events are keyed by the network", () => {
    const created = `{"Type":"network","Action":"create","Actor":{"ID":"${netId}","Attributes":{"name":"edge","type":"bridge"}}}`;
    expect(eventKey(parseEvent(created)!)).toBe(netId);
  });
});

describe("LineSplitter", () => {
  test("a line split across chunks comes out whole, once", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(start.slice(0, 40))).toEqual([]);
    expect(splitter.push(start.slice(40, 200))).toEqual([]);
    expect(splitter.push(`${start.slice(200)}\n${die.slice(0, 10)}`)).toEqual([start]);
    expect(splitter.push(`${die.slice(10)}\n`)).toEqual([die]);
  });

  test("several lines in one chunk, blank lines dropped, a trailing partial kept", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(`${start}\n\n${connect}\n  \n${die.slice(0, 5)}`)).toEqual([start, connect]);
    expect(splitter.push("")).toEqual([]);
    expect(splitter.push(die.slice(5))).toEqual([]);
    expect(splitter.push("\n")).toEqual([die]);
  });

  test("a chunk boundary right at the newline", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(start)).toEqual([]);
    expect(splitter.push("\n")).toEqual([start]);
    expect(splitter.push(`\n${die}\n`)).toEqual([die]);
  });
});
