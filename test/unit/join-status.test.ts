import { describe, expect, test } from "bun:test";
import { planJoin } from "../../src/modes/join/plan.ts";
import { formatDryRun, formatStatusTable } from "../../src/modes/join/render.ts";
import { proxyStatus, statusRows } from "../../src/modes/join/status.ts";
import { app, joinConfig, network, observed, proxy, traefikLabels } from "./_join-fixtures.ts";

const scan = observed(proxy(["bridge", "old"]), [app("web-1", ["web"], { env: ["VIRTUAL_HOST"] }), app("api-1", ["web"], { labels: traefikLabels })], [network("web"), network("old"), network("vlan", "macvlan")]);
const plan = planJoin(scan, joinConfig());

describe("join status", () => {
  test("a row per network: routable containers, joined or not, state and why", () => {
    expect(statusRows(plan)).toEqual([
      { network: "bridge", id: "bridge-id", driver: "bridge", routable: [], joined: true, state: "ok", why: "the default bridge network: never left" },
      { network: "host", id: "host-id", driver: "host", routable: [], joined: false, state: "ignored", why: "driver host is not in join.drivers" },
      { network: "none", id: "none-id", driver: "null", routable: [], joined: false, state: "ignored", why: "driver null is not in join.drivers" },
      { network: "old", id: "old-id", driver: "bridge", routable: [], joined: true, state: "extra", why: "no running routable container" },
      { network: "vlan", id: "vlan-id", driver: "macvlan", routable: [], joined: false, state: "ignored", why: "driver macvlan is not in join.drivers" },
      { network: "web", id: "web-id", driver: "bridge", routable: ["api-1", "web-1"], joined: false, state: "missing", why: "routable: api-1, web-1" },
    ]);
    const table = formatStatusTable(plan, statusRows(plan)).split("\n");
    expect(table[0]).toBe("proxy http-proxy: running (proxy-id)");
    expect(table[2]).toMatch(/^NETWORK\s+DRIVER\s+ROUTABLE\s+JOINED\s+STATE\s+WHY$/);
    expect(table).toContain("web      bridge   api-1,web-1  no      missing  routable: api-1, web-1");
  });

  test("while the proxy is absent, the rows that need it say why they are not joined", () => {
    const absent = planJoin({ ...scan, proxy: { state: "absent", name: "http-proxy" } }, joinConfig());
    expect(statusRows(absent).find((row) => row.network === "web")?.why).toBe("routable: api-1, web-1; proxy container http-proxy does not exist");
    expect(formatStatusTable(absent, statusRows(absent))).toStartWith("proxy http-proxy: proxy container http-proxy does not exist\n");
  });
});

describe("join --dry-run", () => {
  test("the changes as docker commands, leaves first; up to date; nothing to do", () => {
    expect(formatDryRun(plan)).toBe(
      [
        "proxy http-proxy: running (proxy-id): 2 changes",
        "  docker network disconnect old http-proxy   # no running routable container",
        "  docker network connect web http-proxy   # routable: api-1, web-1",
      ].join("\n"),
    );
    const done = planJoin(observed(proxy(["bridge", "web"]), scan.containers, [network("web")]), joinConfig());
    expect(formatDryRun(done)).toBe("proxy http-proxy: running (proxy-id): up to date (joined: bridge, web)");
    const stopped = planJoin({ ...scan, proxy: { state: "stopped", name: "http-proxy", id: "x" } }, joinConfig());
    expect(formatDryRun(stopped)).toBe("proxy http-proxy: proxy container http-proxy is not running: nothing to do");
  });
});

describe("join status: the proxy", () => {
  test("absent: its state in the JSON and a hint naming --container-name in the table", () => {
    const absent = planJoin({ ...scan, proxy: { state: "absent", name: "traefik" } }, joinConfig());
    expect(proxyStatus(absent)).toEqual({
      name: "traefik",
      state: "absent",
      problem: "proxy container traefik does not exist",
      hint: "no container is named traefik: name the proxy with --container-name NAME (join.container_name), or create it",
    });
    expect(formatStatusTable(absent, statusRows(absent)).split("\n")[1]).toBe(`hint: ${proxyStatus(absent).hint}`);
  });

  test("running: its id and no problem", () => {
    expect(proxyStatus(plan)).toEqual({ name: "http-proxy", state: "running", id: "proxy-id" });
  });
});
