import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Daemon, dockernet, waitFor } from "../support/dockernet.ts";
import { useTestEngine, type RunOptions } from "../support/engine.ts";

setDefaultTimeout(60_000);

const engine = useTestEngine({ name: "dntest-join", subnet: 95 });

/** Routable by env (nginx-proxy style) or by label (Traefik style). */
const vhost = (host = "app.example"): RunOptions => ({ env: { VIRTUAL_HOST: host } });
const traefik = (extra: Record<string, string> = {}): RunOptions => ({ labels: { "traefik.http.routers.app.rule": "Host(`app.example`)", ...extra } });

/** The networks a container is really attached to (Docker may list a half-failed connect without a network id). */
async function networksOf(name: string): Promise<string[]> {
  const shown = await engine.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", name]);
  const networks = JSON.parse(shown.stdout) as Record<string, { NetworkID: string }>;
  return Object.entries(networks).filter(([, entry]) => entry.NetworkID !== "").map(([network]) => network).sort();
}

/** Runs `action`, then waits for the reconcile it causes (needs `--log-level debug`). */
async function settled(daemon: Daemon, action: () => Promise<unknown>): Promise<void> {
  const before = daemon.find((line) => line.msg === "reconciled").length;
  await action();
  await waitFor("a reconcile", () => daemon.find((line) => line.msg === "reconciled").length > before);
}

const joinedLines = (daemon: Daemon, network: string) => daemon.find((line) => line.msg === "network joined" && line.network === network);

describe("join daemon", () => {
  test("the startup scan joins the networks of routable containers and leaves alone the rest", async () => {
    const names = ["web", "api", "optout", "dbonly", "private", "stale", "edge"];
    const nets = Object.fromEntries(await Promise.all(names.map(async (name, i) => [name, await engine.network(name, { subnet: `10.70.${i + 1}.0/24` })] as const)));
    const internal = await engine.network("backoffice", { subnet: "10.70.8.0/24", internal: true });
    await engine.run("http-proxy", { network: [nets.edge!.name, "bridge", nets.stale!.name] });
    await engine.run("web-1", { network: nets.web!.name, ...vhost() });
    await engine.run("api-1", { network: nets.api!.name, ...traefik() });
    await engine.run("optout-1", { network: nets.optout!.name, env: { VIRTUAL_HOST: "x.example" }, labels: { "traefik.enable": "false", "traefik.http.routers.x.rule": "Host(`x`)" } });
    await engine.run("db-1", { network: nets.dbonly!.name });
    await engine.run("private-1", { network: nets.private!.name, ...vhost() });
    await engine.run("office-1", { network: internal.name, ...vhost() });
    await engine.run("hostnet-1", { network: "host", ...vhost() });

    await using daemon = await Daemon.start(engine, ["join"], { ready: "join started", env: { DOCKERNET_JOIN_EXCLUDE_NETWORKS: "private" } });
    // web, api and the internal bridge hold routable containers; bridge and edge (its own network) are kept; stale is left.
    expect(await networksOf("http-proxy")).toEqual(["api", "backoffice", "bridge", "edge", "web"]);
    for (const network of ["web", "api", "backoffice"]) {
      expect(joinedLines(daemon, network)[0]).toMatchObject({ level: "info", tag: "join", proxy: "http-proxy", result: "ok" });
    }
    expect(daemon.find((line) => line.msg === "network left").map((line) => line.network)).toEqual(["stale"]);
    expect(daemon.find((line) => line.level === "error")).toEqual([]);

    // Only the drivers in join.drivers count: with none of them present, nothing is joined or left.
    const status = (JSON.parse((await dockernet(engine, ["join", "status", "--json"], { env: { DOCKERNET_JOIN_DRIVERS: "macvlan" } })).stdout) as { networks: { network: string; state: string; why: string }[] }).networks;
    expect(status.find((row) => row.network === "web")).toMatchObject({ state: "ignored", why: "driver bridge is not in join.drivers" });
    expect(status.find((row) => row.network === "host")).toMatchObject({ state: "ignored", why: "driver host is not in join.drivers" });
  });

  test("a new project network with a routable container is joined within 1 s of the container's start", async () => {
    await engine.run("http-proxy");
    await using daemon = await Daemon.start(engine, ["join"], { ready: "join started" });
    for (const [i, options] of [vhost(), traefik()].entries()) {
      const net = await engine.network(`project-${i}`, { subnet: `10.70.${10 + i}.0/24` });
      const app = await engine.run(`app-${i}`, { network: net.name, ...options });
      const started = performance.now();
      await waitFor(`the proxy on ${net.name}`, async () => (await networksOf("http-proxy")).includes(net.name), 1000, 10);
      expect(performance.now() - started).toBeLessThan(1000);
      // The same from Docker's own clock: the container's start time to dockernet's audit line.
      const startedAt = Date.parse((await engine.docker(["inspect", "-f", "{{.State.StartedAt}}", app.id])).stdout.trim());
      expect(Date.parse(String(joinedLines(daemon, net.name)[0]?.time)) - startedAt).toBeLessThan(1000);
    }
  });

  test("a container connected to a network after its start is picked up, and its disconnect is followed", async () => {
    const front = await engine.network("front", { subnet: "10.70.12.0/24" });
    const back = await engine.network("back", { subnet: "10.70.13.0/24" });
    await engine.run("http-proxy");
    await engine.run("app", { network: front.name, ...traefik() });
    await using daemon = await Daemon.start(engine, ["join"], { ready: "join started" });
    expect(await networksOf("http-proxy")).toEqual(["bridge", "front"]);
    await engine.docker(["network", "connect", back.name, "app"]);
    await waitFor("the proxy on back", async () => (await networksOf("http-proxy")).includes("back"));
    await engine.docker(["network", "disconnect", back.name, "app"]);
    await waitFor("the proxy off back", async () => !(await networksOf("http-proxy")).includes("back"));
    expect(await networksOf("http-proxy")).toEqual(["bridge", "front"]);
  });

  test("stop -> leave; `network rm` right after `stop` succeeds; a network keeps the proxy while one routable container runs", async () => {
    await engine.run("http-proxy");
    await using daemon = await Daemon.start(engine, ["join", "--log-level", "debug"], { ready: "join started" });
    // A few rounds: the leave races `docker stop` returning, as in `docker compose down`.
    for (let round = 0; round < 3; round++) {
      const net = await engine.network(`project-${round}`, { subnet: `10.70.${20 + round}.0/24` });
      const web = await engine.run(`web-${round}`, { network: net.name, ...vhost() });
      const worker = await engine.run(`worker-${round}`, { network: net.name, ...traefik() });
      const db = await engine.run(`db-${round}`, { network: net.name });
      await waitFor(`the proxy on ${net.name}`, async () => (await networksOf("http-proxy")).includes(net.name));
      await settled(daemon, () => worker.stop());
      expect(await networksOf("http-proxy")).toContain(net.name); // web still routable there
      await db.stop();
      await web.stop();
      await net.remove(); // throws if the proxy were still attached ("has active endpoints")
      expect(await networksOf("http-proxy")).toEqual(["bridge"]);
    }
    expect(daemon.find((line) => line.msg === "network left")).toHaveLength(3);
  });

  test("proxy restarted or recreated: its networks are restored", async () => {
    const a = await engine.network("net-a", { subnet: "10.70.30.0/24" });
    const b = await engine.network("net-b", { subnet: "10.70.31.0/24" });
    const proxy = await engine.run("http-proxy");
    await engine.run("app-a", { network: a.name, ...vhost() });
    await engine.run("app-b", { network: b.name, ...traefik() });
    await using daemon = await Daemon.start(engine, ["join"], { ready: "join started" });
    expect(await networksOf("http-proxy")).toEqual(["bridge", "net-a", "net-b"]);
    await proxy.restart();
    await waitFor("the proxy back on both networks", async () => (await networksOf("http-proxy")).join() === "bridge,net-a,net-b");
    // A recreated proxy (`docker compose up` after a change) starts with none of them.
    await proxy.remove();
    await engine.run("http-proxy");
    await waitFor("the new proxy on both networks", async () => (await networksOf("http-proxy")).join() === "bridge,net-a,net-b", 5000);
    expect(daemon.find((line) => line.msg === "proxy container started, joining its networks").length).toBeGreaterThanOrEqual(2);
    expect(daemon.find((line) => line.level === "error")).toEqual([]);
  });

  test("proxy absent at start: logged once, no crash; joined when it appears, also after being stopped", async () => {
    const net = await engine.network("shop", { subnet: "10.70.32.0/24" });
    await engine.run("shop-1", { network: net.name, ...vhost() });
    await using daemon = await Daemon.start(engine, ["join", "--container-name", "traefik", "--log-level", "debug"], { ready: "join started" });
    const waiting = () => daemon.find((line) => line.msg === "proxy unavailable, waiting");
    expect(waiting()).toMatchObject([{ level: "warn", proxy: "traefik", reason: "proxy container traefik does not exist" }]);
    await settled(daemon, () => engine.run("shop-2", { network: net.name, ...traefik() })); // events while it is absent
    expect(waiting()).toHaveLength(1);
    await engine.run("traefik", { detachOnly: true });
    await waitFor("the stopped proxy to be noticed", () => waiting().length === 2);
    expect(waiting()[1]).toMatchObject({ reason: "proxy container traefik is not running" });
    await engine.docker(["start", "traefik"]);
    await waitFor("traefik on shop", async () => (await networksOf("traefik")).includes("shop"));
    expect(daemon.find((line) => line.level === "error")).toEqual([]);
    expect(await daemon.exited(0)).toBeUndefined();
  });
});

describe("failures", () => {
  /** A /30 network: its one free address goes to the routable container, so the proxy's connect fails. */
  async function fullNetwork(name: string, third: number) {
    const net = await engine.network(name, { subnet: `10.70.${third}.0/30` });
    await engine.run(`${name}-app`, { network: net.name, ...vhost() });
    return net;
  }

  test("a network change that still fails after retries exits 1, at startup and later", async () => {
    await engine.run("http-proxy");
    await fullNetwork("tiny", 40);
    const startup = await dockernet(engine, ["join"]);
    expect(startup.code).toBe(1);
    expect(startup.stderr).toContain("join: startup reconcile failed: connect container http-proxy to network tiny: no available IPv4 addresses");
    expect(startup.stderr).toContain("hint: dockernet join exits so that its service manager restarts it");

    // Later: the same failure on a network that appears while the daemon runs (tiny itself excluded).
    await using daemon = await Daemon.start(engine, ["join", "--log-level", "debug"], { ready: "join started", env: { DOCKERNET_JOIN_EXCLUDE_NETWORKS: "tiny" } });
    await fullNetwork("tiny2", 41);
    expect(await daemon.exited(15_000)).toBe(1);
    expect(daemon.find((line) => line.msg === "docker call failed, retrying" && line.call === "connect tiny2")).toHaveLength(3);
    expect(daemon.find((line) => line.msg === "network change failed")).toMatchObject([{ level: "error", network: "tiny2", op: "connect" }]);
    expect(daemon.stderr.join("\n")).toContain("connect container http-proxy to network tiny2: no available IPv4 addresses");
  });

  test("with --keep-going the daemon logs the failure once and carries on", async () => {
    await engine.run("http-proxy");
    await fullNetwork("tiny", 42);
    await using daemon = await Daemon.start(engine, ["join", "--keep-going"], { ready: "join started" });
    const good = await engine.network("good", { subnet: "10.70.43.0/24" });
    await engine.run("good-1", { network: good.name, ...traefik() });
    await waitFor("the proxy on good", async () => (await networksOf("http-proxy")).includes("good"));
    expect(daemon.find((line) => line.msg === "network change failed" && line.network === "tiny")).toHaveLength(1);
    expect(await networksOf("http-proxy")).toEqual(["bridge", "good"]);
    expect((await daemon.stop()).code).toBe(0);
  });
});

describe("one-shot commands", () => {
  test("--dry-run prints the plan and changes nothing; --once applies it; status shows each network and why", async () => {
    const web = await engine.network("web", { subnet: "10.70.50.0/24" });
    const old = await engine.network("old", { subnet: "10.70.51.0/24" });
    await engine.run("http-proxy", { network: ["bridge", old.name] });
    await engine.run("web-1", { network: web.name, ...vhost() });
    await engine.run("old-db", { network: old.name });

    const dry = await dockernet(engine, ["join", "--once", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("2 changes");
    expect(dry.stdout).toMatch(/docker network disconnect old http-proxy\s+# no running routable container/);
    expect(dry.stdout).toMatch(/docker network connect web http-proxy\s+# routable: web-1/);
    expect(await networksOf("http-proxy")).toEqual(["bridge", "old"]);

    const before = (JSON.parse((await dockernet(engine, ["join", "status", "--json"])).stdout) as { networks: { network: string }[] }).networks;
    const row = (rows: { network: string }[], name: string) => rows.find((entry) => entry.network === name);
    expect(row(before, "web")).toMatchObject({ driver: "bridge", routable: ["web-1"], joined: false, state: "missing", why: "routable: web-1" });
    expect(row(before, "old")).toMatchObject({ routable: [], joined: true, state: "extra", why: "no running routable container" });
    expect(row(before, "bridge")).toMatchObject({ joined: true, state: "ok", why: "the default bridge network: never left" });

    const once = await dockernet(engine, ["join", "--once"]);
    expect(once.code).toBe(0);
    expect(await networksOf("http-proxy")).toEqual(["bridge", "web"]);
    const table = await dockernet(engine, ["join", "status"]);
    expect(table.stdout).toMatch(/NETWORK\s+DRIVER\s+ROUTABLE\s+JOINED\s+STATE\s+WHY/);
    expect(table.stdout).toMatch(/web\s+bridge\s+web-1\s+yes\s+ok\s+routable: web-1/);
    expect(table.stdout).toMatch(/old\s+bridge\s+-\s+no\s+ok\s+no running routable container/);
    expect((await dockernet(engine, ["join", "--once", "--dry-run"])).stdout).toContain("up to date (joined: bridge, web)");

    // Without the proxy there is nothing to do: said plainly, exit 1.
    const absent = await dockernet(engine, ["join", "--once", "--container-name", "traefik"]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain("proxy container traefik does not exist");
  });

  test("a burst of 50 routable containers started at once: coalesced, no full scan per start, each container inspected once", async () => {
    await engine.run("http-proxy");
    const nets = await Promise.all(Array.from({ length: 5 }, (_, i) => engine.network(`burst-${i}`, { subnet: `10.70.${60 + i}.0/24` })));
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await engine.run(`burst-app-${i}`, { network: nets[i % 5]!.name, ...(i % 2 ? vhost() : traefik()), detachOnly: true })).id);
    await using daemon = await Daemon.start(engine, ["join", "--log-level", "trace"], { ready: "join started" });
    const scansBefore = daemon.find((line) => line.msg === "reconciled").length;
    await Promise.all(ids.map((id) => engine.docker(["start", id])));
    await waitFor("a scan that sees all 50 running", () => daemon.find((line) => line.msg === "reconciled" && line.containers === 50).length > 0, 20_000);
    expect(await networksOf("http-proxy")).toEqual(["bridge", ...nets.map((net) => net.name)]);
    // Docker takes seconds to start 50 containers here, so starts trickle in: each batch of them is
    // looked at by listing just those containers; the full scan (every container) is not repeated.
    const reconciles = daemon.find((line) => line.msg === "reconciled").slice(scansBefore);
    expect(reconciles.filter((line) => line.scan === "full").length).toBeLessThanOrEqual(2);
    expect(reconciles.length).toBeLessThan(50);
    // The env of the 25 env-routed containers is read once each, not at every scan.
    const inspected = daemon.find((line) => line.msg === "inspect container" && ids.includes(String(line.container)));
    expect(inspected).toHaveLength(25);
  });
});
