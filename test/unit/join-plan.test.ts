import { describe, expect, test } from "bun:test";
import { planJoin, type JoinPlan } from "../../src/modes/join/plan.ts";
import { app, joinConfig, network, observed, proxy, traefikLabels } from "./_join-fixtures.ts";

const config = joinConfig();
const vhost = { env: ["VIRTUAL_HOST"] };
const actions = (plan: JoinPlan) => plan.actions.map((action) => `${action.op} ${action.network.name}`);
const decision = (plan: JoinPlan, name: string) => plan.networks.find((entry) => entry.network.name === name);

describe("planJoin: the desired networks", () => {
  test("joins every bridge network holding a running routable container, leaves those without", () => {
    const scan = observed(proxy(["bridge", "old"]), [app("web", ["web"], vhost), app("api", ["api"], { labels: traefikLabels }), app("db", ["old"], { env: [] })], [network("web"), network("api"), network("old")]);
    const plan = planJoin(scan, config);
    expect(actions(plan)).toEqual(["disconnect old", "connect api", "connect web"]); // leaves first
    expect(decision(plan, "web")).toMatchObject({ counted: true, routable: ["web"], joined: false, wanted: true, why: "routable: web" });
    expect(decision(plan, "old")).toMatchObject({ counted: true, routable: [], joined: true, wanted: false, why: "no running routable container" });
    expect(plan.actions[0]?.why).toBe("no running routable container");
  });

  test("never leaves the default bridge nor the proxy's own network, by name, id or `default`", () => {
    const scan = (networkMode: string) => observed(proxy(["bridge", "edge"], networkMode), [], [network("edge")]);
    expect(actions(planJoin(scan("edge"), config))).toEqual([]);
    expect(actions(planJoin(scan("edge-id"), config))).toEqual([]);
    expect(actions(planJoin(scan("default"), config))).toEqual(["disconnect edge"]);
    expect(decision(planJoin(scan("edge"), config), "edge")?.why).toBe("the proxy's own network: never left");
    expect(decision(planJoin(scan("edge"), config), "bridge")?.why).toBe("the default bridge network: never left");
  });

  test("joins the default bridge too when a routable container is on it", () => {
    const plan = planJoin(observed(proxy(["edge"]), [app("legacy", ["bridge"], vhost)], [network("edge")]), config);
    expect(actions(plan)).toEqual(["connect bridge"]);
  });

  test("networks whose driver is not in join.drivers, or that are excluded, are never touched", () => {
    const scan = observed(proxy(["bridge", "private"]), [app("a", ["host"], vhost), app("b", ["mv"], vhost), app("c", ["private"], vhost), app("d", ["other"], vhost)], [network("mv", "macvlan"), network("private"), network("other")]);
    const plan = planJoin(scan, joinConfig({ exclude_networks: ["private", "other"] }));
    expect(actions(plan)).toEqual([]);
    expect(decision(plan, "mv")).toMatchObject({ counted: false, wanted: false, why: "driver macvlan is not in join.drivers" });
    expect(decision(plan, "private")).toMatchObject({ counted: false, joined: true, wanted: true, why: "listed in join.exclude_networks" });
    expect(actions(planJoin(scan, joinConfig({ drivers: ["bridge", "macvlan"] })))).toEqual(["connect mv", "connect other"]);
  });

  test("traefik.enable=false and non-routable containers keep no network; the proxy's own labels keep none either", () => {
    const optOut = app("opt", ["quiet"], { labels: { "traefik.enable": "false", ...traefikLabels }, env: ["VIRTUAL_HOST"] });
    const self = { ...app("http-proxy", ["dash"], { labels: traefikLabels }), id: "proxy-id" };
    const plan = planJoin(observed(proxy(["bridge", "quiet", "dash"], "bridge"), [optOut, self], [network("quiet"), network("dash")]), config);
    expect(actions(plan)).toEqual(["disconnect dash", "disconnect quiet"]);
  });

  test("one container on several networks brings the proxy to each; routable names are sorted", () => {
    const plan = planJoin(observed(proxy(["bridge"]), [app("z", ["a", "b"], vhost), app("y", ["a"], vhost)], [network("a"), network("b")]), config);
    expect(actions(plan)).toEqual(["connect a", "connect b"]);
    expect(decision(plan, "a")?.routable).toEqual(["y", "z"]);
  });
});

describe("planJoin: an unavailable proxy changes nothing", () => {
  const containers = [app("web", ["web"], vhost)];
  test.each([
    [{ state: "absent", name: "http-proxy" } as const, "proxy container http-proxy does not exist"],
    [{ state: "stopped", name: "http-proxy", id: "proxy-id" } as const, "proxy container http-proxy is not running"],
    [proxy(["host"], "host"), "proxy container http-proxy uses network mode host: it has no networks of its own to join"],
    [proxy([], "container:abc"), "proxy container http-proxy uses network mode container:abc: it has no networks of its own to join"],
  ])("%o", (state, blocked) => {
    const plan = planJoin(observed(state, containers, [network("web")]), config);
    expect(plan.blocked).toBe(blocked);
    expect(plan.actions).toEqual([]);
    expect(decision(plan, "web")).toMatchObject({ wanted: true, joined: false });
  });
});
