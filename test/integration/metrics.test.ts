import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { exec } from "../support/_exec.ts";
import { Daemon, waitFor } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";
import { freePort } from "../support/ports.ts";
import { nextHop } from "../support/routing.ts";

setDefaultTimeout(120_000);

const engine = useTestEngine({ name: "dntest-metrics", subnet: 104 });

/** The value of one Prometheus series in /metrics text (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split("\n").find((entry) => entry.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("--metrics-listen", () => {
  test("/healthz is 200 while the stream is up, 503 with a reason while the engine is down; /metrics counts the work", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const net = await engine.network("vpn", { subnet: "10.85.1.0/24" });
    const warp = await engine.run("warp-1", { network: net.name, restart: "always" });
    await using daemon = await Daemon.start(engine, ["warp", "--metrics-listen", String(port)]);
    expect(daemon.find((line) => line.msg === "serving /healthz and /metrics")[0]).toMatchObject({ listen: `127.0.0.1:${port}` });
    const app = await engine.run("app", { network: net.name, labels: { "network.warp.target": "warp-1" }, restart: "always" });
    await waitFor("routed", async () => (await nextHop(app, "1.1.1.1")) === (await warp.ip(net.name)));

    const healthy = await fetch(`${base}/healthz`);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toEqual({ status: "ok" });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(value(metrics, 'dockernet_events_total{type="container"}')).toBeGreaterThan(0);
    expect(value(metrics, 'dockernet_reconciles_total{mode="warp",result="ok"}')).toBeGreaterThan(0);
    expect(value(metrics, 'dockernet_actions_total{mode="warp",result="applied"}')).toBeGreaterThanOrEqual(3);
    expect(value(metrics, 'dockernet_reconcile_duration_seconds_count{mode="warp"}')).toBeGreaterThan(0);
    expect(value(metrics, 'dockernet_event_to_apply_seconds_count{mode="warp"}')).toBeGreaterThan(0);
    expect(metrics).toContain('dockernet_event_to_apply_seconds_bucket{mode="warp",le="0.25"}');
    expect(value(metrics, "dockernet_events_stream_reconnects_total")).toBe(0);

    await engine.stopDaemon();
    // While dockerd shuts down, a reconcile may fail before the events stream ends (its socket goes
    // first): the reason settles on the stream once it is down.
    const down = await waitFor("503, the stream named as the reason, while the engine is down", async () => {
      const response = await fetch(`${base}/healthz`);
      const body = response.status === 503 ? ((await response.json()) as { status?: string; reason?: string }) : undefined;
      return body?.reason === "the Docker events stream is not connected" ? body : undefined;
    });
    expect(down).toEqual({ status: "unhealthy", reason: "the Docker events stream is not connected" });

    await engine.startDaemon();
    await waitFor("200 again after the reconnect", async () => (await fetch(`${base}/healthz`)).status === 200, 40_000, 200);
    const after = await (await fetch(`${base}/metrics`)).text();
    expect(value(after, "dockernet_events_stream_reconnects_total")).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  test("a bare port listens on loopback only; run warp join serves one endpoint for both modes", async () => {
    const port = await freePort();
    await using daemon = await Daemon.start(engine, ["run", "warp", "join", "--metrics-listen", String(port)], { ready: "join started" });
    const listening = await exec("ss", ["-Hltn", `sport = :${port}`]);
    expect(listening.stdout).toContain(`127.0.0.1:${port}`);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('dockernet_reconciles_total{mode="warp",result="ok"}');
    expect(metrics).toContain('dockernet_reconciles_total{mode="join",result="ok"}');
    expect(daemon.find((line) => line.msg === "serving /healthz and /metrics")).toHaveLength(1);
  });

  test("a bad address is a usage error", async () => {
    const { dockernet } = await import("../support/dockernet.ts");
    const result = await dockernet(engine, ["warp", "--metrics-listen", "nowhere"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("metrics.listen");
  });
});
