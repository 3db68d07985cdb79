import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "../../src/config/duration.ts";
import { loadConfig } from "../../src/modes/config.ts";

describe("durations", () => {
  test("units and bare seconds resolve to milliseconds", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("60s")).toBe(60_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration(300)).toBe(300_000);
    expect(parseDuration("300")).toBe(300_000);
  });

  const rejected: [string | number, string][] = [
    ["0s", "must be longer than 0"],
    [0, "must be longer than 0"],
    [-5, "must be longer than 0"],
    [1.5, "is not a duration"],
    ["1.5", "is not a duration"],
    ["5 m", "is not a duration"],
    ["5min", "is not a duration"],
    ["", "is not a duration"],
    ["-1s", "is not a duration"],
    ["1000h", "is too long"],
  ];
  for (const [value, message] of rejected) {
    test(`rejects ${JSON.stringify(value)}`, () => {
      expect(() => parseDuration(value)).toThrow(message);
    });
  }

  test("formatDuration writes the largest whole unit", () => {
    expect([300_000, 7_200_000, 90_000, 1_500, 500].map(formatDuration)).toEqual(["5m", "2h", "90s", "1500ms", "500ms"]);
  });

  test("resync intervals from env and flags, with their field in errors", async () => {
    const resolved = await loadConfig({
      env: { DOCKERNET_WARP_RESYNC_INTERVAL: "30s" },
      flags: { join: { resync_interval: "45" } },
      defaultFile: "/nonexistent/dockernet.toml",
    });
    expect(resolved.config.warp.resync_interval).toBe(30_000);
    expect(resolved.config.join.resync_interval).toBe(45_000);
    await expect(
      loadConfig({ env: { DOCKERNET_WARP_RESYNC_INTERVAL: "soon" }, defaultFile: "/nonexistent/dockernet.toml" }),
    ).rejects.toThrow('warp.resync_interval: "soon" is not a duration');
  });
});
