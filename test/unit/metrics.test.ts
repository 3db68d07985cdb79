import { describe, expect, test } from "bun:test";
import { parseListen } from "../../src/core/listen.ts";
import { Metrics } from "../../src/core/metrics.ts";

describe("Metrics", () => {
  test("counters with labels, declared at 0, in Prometheus text", () => {
    const metrics = new Metrics();
    metrics.declareCounter("dockernet_events_total", "Docker events received.");
    metrics.inc("dockernet_actions_total", "Changes applied.", { mode: "warp", result: "applied" }, 3);
    metrics.inc("dockernet_actions_total", "Changes applied.", { mode: "warp", result: "applied" });
    const text = metrics.render();
    expect(text).toContain("# TYPE dockernet_events_total counter\ndockernet_events_total 0\n");
    expect(text).toContain('dockernet_actions_total{mode="warp",result="applied"} 4');
  });

  test("histograms: cumulative buckets, +Inf, sum and count", () => {
    const metrics = new Metrics();
    for (const seconds of [0.004, 0.02, 0.3, 20]) metrics.observe("x_seconds", "X.", seconds, { mode: "join" }, [0.01, 0.1, 1]);
    const text = metrics.render();
    expect(text).toContain('x_seconds_bucket{mode="join",le="0.01"} 1');
    expect(text).toContain('x_seconds_bucket{mode="join",le="0.1"} 2');
    expect(text).toContain('x_seconds_bucket{mode="join",le="1"} 3');
    expect(text).toContain('x_seconds_bucket{mode="join",le="+Inf"} 4');
    expect(text).toContain('x_seconds_count{mode="join"} 4');
    expect(text).toMatch(/x_seconds_sum\{mode="join"\} 20\.324/);
  });

  test("label values are escaped", () => {
    const metrics = new Metrics();
    metrics.inc("y_total", "Y.", { reason: 'a "b"\\c\nd' });
    expect(metrics.render()).toContain('y_total{reason="a \\"b\\"\\\\c\\nd"} 1');
  });
});

describe("parseListen", () => {
  test("loopback unless an address is given", () => {
    expect(parseListen("9477")).toEqual({ host: "127.0.0.1", port: 9477 });
    expect(parseListen(":9477")).toEqual({ host: "127.0.0.1", port: 9477 });
    expect(parseListen("127.0.0.1:9477")).toEqual({ host: "127.0.0.1", port: 9477 });
    expect(parseListen("0.0.0.0:9477")).toEqual({ host: "0.0.0.0", port: 9477 });
    expect(parseListen("[::1]:9477")).toEqual({ host: "::1", port: 9477 });
  });

  test("bad values are usage errors", () => {
    for (const bad of ["", "abc", "1.2.3.4:0", "1.2.3.4:70000", "host:port"]) {
      expect(() => parseListen(bad)).toThrow("--metrics-listen");
    }
  });
});
