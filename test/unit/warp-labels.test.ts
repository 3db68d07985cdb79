import { describe, expect, test } from "bun:test";
import { matchGlob } from "../../src/modes/warp/_glob.ts";
import { LabelError, labelNames, parseTargetLabels, parseWarpNetworkLabel } from "../../src/modes/warp/labels.ts";

describe("matchGlob", () => {
  test("* matches any run, including none", () => {
    expect(matchGlob("warp-*", "warp-1")).toBe(true);
    expect(matchGlob("warp-*", "warp-")).toBe(true);
    expect(matchGlob("*-gw-*", "eu-gw-2")).toBe(true);
    expect(matchGlob("warp-*", "my-warp-1")).toBe(false);
  });

  test("? matches exactly one character", () => {
    expect(matchGlob("warp-?", "warp-a")).toBe(true);
    expect(matchGlob("warp-?", "warp-")).toBe(false);
    expect(matchGlob("warp-?", "warp-ab")).toBe(false);
  });

  test("the whole name must match", () => {
    expect(matchGlob("warp", "warp-1")).toBe(false);
    expect(matchGlob("warp", "xwarp")).toBe(false);
  });

  test("regex metacharacters in the pattern are literal", () => {
    expect(matchGlob("warp.1", "warp.1")).toBe(true);
    expect(matchGlob("warp.1", "warpX1")).toBe(false);
    expect(matchGlob("a+b", "aab")).toBe(false);
    expect(matchGlob("a+b", "a+b")).toBe(true);
    expect(matchGlob("(gw)|x", "x")).toBe(false);
    expect(matchGlob("(gw)|x", "(gw)|x")).toBe(true);
    expect(matchGlob("[ab]", "a")).toBe(false);
    expect(matchGlob("[ab]", "[ab]")).toBe(true);
    expect(matchGlob("^w$", "^w$")).toBe(true);
    expect(matchGlob("w{2}", "ww")).toBe(false);
    expect(matchGlob("\\d", "\\d")).toBe(true);
    expect(matchGlob("\\d", "1")).toBe(false);
  });
});

describe("warp labels", () => {
  test("label names under a prefix", () => {
    expect(labelNames("io.example")).toEqual({
      target: "io.example.target",
      network: "io.example.network",
      routes: "io.example.routes",
      onDown: "io.example.on_down",
      mtu: "io.example.mtu",
    });
  });

  test("a target's labels, validated", () => {
    const labels = parseTargetLabels("app", { "network.warp.target": "warp-1", "network.warp.network": "edge", "network.warp.routes": "10.0.0.0/8" }, "network.warp");
    expect(labels).toMatchObject({ target: "warp-1", network: "edge", routes: [{ cidr: "10.0.0.0/8", family: 4 }] });
  });

  test("a bad label throws a LabelError naming container, label and value", () => {
    const parse = () => parseTargetLabels("app", { "network.warp.target": "warp-1", "network.warp.network": "-edge" }, "network.warp");
    expect(parse).toThrow(LabelError);
    expect(parse).toThrow('container app: label network.warp.network: "-edge" is not a network name');
  });

  test("an empty routes label is an error", () => {
    expect(() => parseTargetLabels("app", { "network.warp.target": "warp-1", "network.warp.routes": " , " }, "network.warp")).toThrow(
      "container app: label network.warp.routes: no rule given",
    );
  });

  test("on_down and mtu: what the target does while its gateway is down, and its MTU lock", () => {
    const parse = (labels: Record<string, string>) => parseTargetLabels("app", { "network.warp.target": "warp-1", ...labels }, "network.warp");
    expect(parse({})).toEqual({ target: "warp-1" });
    expect(parse({ "network.warp.on_down": "restore", "network.warp.mtu": "1280" })).toEqual({ target: "warp-1", onDown: "restore", mtu: 1280 });
    expect(parse({ "network.warp.on_down": "block", "network.warp.mtu": "0" })).toEqual({ target: "warp-1", onDown: "block", mtu: 0 });
    expect(parse({ "network.warp.mtu": "576" }).mtu).toBe(576);
    expect(parse({ "network.warp.mtu": "9216" }).mtu).toBe(9216);
  });

  test("bad on_down and mtu labels name container, label and value", () => {
    const parse = (labels: Record<string, string>) => () => parseTargetLabels("app", { "network.warp.target": "warp-1", ...labels }, "network.warp");
    expect(parse({ "network.warp.on_down": "Restore" })).toThrow('container app: label network.warp.on_down: "Restore" is not one of block, restore');
    expect(parse({ "network.warp.mtu": "1280 " })).toThrow('container app: label network.warp.mtu: "1280 " is not an MTU (a number)');
    expect(parse({ "network.warp.mtu": "-1" })).toThrow('container app: label network.warp.mtu: "-1" is not an MTU (a number)');
    expect(parse({ "network.warp.mtu": "575" })).toThrow("container app: label network.warp.mtu: 575 is not an MTU between 576 and 9216 (or 0 for none)");
    expect(parse({ "network.warp.mtu": "9217" })).toThrow(LabelError);
  });

  test("the warp container's own network preference", () => {
    expect(parseWarpNetworkLabel("warp-1", {}, "network.warp")).toBeUndefined();
    expect(parseWarpNetworkLabel("warp-1", { "network.warp.network": "edge" }, "network.warp")).toBe("edge");
    expect(() => parseWarpNetworkLabel("warp-1", { "network.warp.network": "a b" }, "network.warp")).toThrow("container warp-1: label network.warp.network");
  });
});
