import { describe, expect, test } from "bun:test";
import { effectiveLimits, formatLimits, parseLimitsText, parseMemory } from "../../src/modes/flow/protocol/limits.ts";
import { parsePayload } from "../../src/modes/flow/protocol/requests.ts";

const defaults = { memory: 1024 ** 3, cpus: 1, pids: 1024 };
const max = { memory: 2 * 1024 ** 3, cpus: 2, pids: 2048 };

describe("flow limits", () => {
  test("memory sizes: bytes, k, m, g; anything else named", () => {
    expect(parseMemory(4096)).toBe(4096);
    expect(parseMemory("512m")).toBe(512 * 1024 ** 2);
    expect(parseMemory("1G")).toBe(1024 ** 3);
    expect(parseMemory("1.5g")).toBe(1.5 * 1024 ** 3);
    for (const bad of ["", "12x", "-1m", "0", 0, 1.5, "m"]) expect(() => parseMemory(bad)).toThrow("is not a memory size");
  });

  test("each limit asked for, else the default; above the maximum is forbidden naming the field", () => {
    expect(effectiveLimits(undefined, defaults, max)).toEqual(defaults);
    expect(effectiveLimits({ pids: 10 }, defaults, max)).toEqual({ ...defaults, pids: 10 });
    expect(effectiveLimits({ memory: 2 * 1024 ** 3, cpus: 0.5 }, defaults, max)).toEqual({ memory: 2 * 1024 ** 3, cpus: 0.5, pids: 1024 });
    expect(() => effectiveLimits({ memory: 3 * 1024 ** 3 }, defaults, max)).toThrow(expect.objectContaining({ type: "forbidden", message: "limits.memory: 3g is over the server's maximum of 2g", details: expect.objectContaining({ field: "limits.memory" }) }));
    expect(() => effectiveLimits({ cpus: 3 }, defaults, max)).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: "limits.cpus", max: 2 }) }));
    // A default above the maximum is refused too, and says where it came from.
    expect(() => effectiveLimits({}, { ...defaults, pids: 4096 }, max)).toThrow("flow.default_limits");
  });

  test("the text form of env and flags, and back", () => {
    expect(parseLimitsText("memory=1g, cpus=0.5,pids=10")).toEqual({ memory: "1g", cpus: 0.5, pids: 10 });
    expect(() => parseLimitsText("memory")).toThrow("is not KEY=VALUE");
    expect(formatLimits({ memory: 512 * 1024 ** 2, cpus: 1.5, pids: 100 })).toBe("memory=512m,cpus=1.5,pids=100");
  });

  test("create_container: limits validated, at most 64 ports", () => {
    expect(parsePayload("create_container", { image: "busybox", limits: { memory: "64m", cpus: 0.25 } }).limits).toEqual({ memory: 64 * 1024 ** 2, cpus: 0.25 });
    expect(() => parsePayload("create_container", { image: "busybox", limits: { memory: "lots" } })).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: "limits.memory" }) }));
    expect(() => parsePayload("create_container", { image: "busybox", limits: { pids: 1.5 } })).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: "limits.pids" }) }));
    const ports = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${1 + i}/tcp`, null]));
    expect(parsePayload("create_container", { image: "busybox", ports: ports(64) }).ports).toBeDefined();
    expect(() => parsePayload("create_container", { image: "busybox", ports: ports(65) })).toThrow(expect.objectContaining({ message: "create_container: ports must have at most 64 entries" }));
  });
});
