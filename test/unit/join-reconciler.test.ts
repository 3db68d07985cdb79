import { afterEach, describe, expect, test } from "bun:test";
import type { DockerEvent } from "../../src/docker/types.ts";
import type { FailurePolicy } from "../../src/modes/join/failures.ts";
import { JoinReconciler, scanAttempts } from "../../src/modes/join/reconciler.ts";
import { joinConfig, traefikLabels } from "./_join-fixtures.ts";
import { FakeDocker, fakeLogger } from "./_join-fake-docker.ts";

const fastRetry = { retries: 3, initialMs: 1, maxMs: 2 };
const reconcilers: JoinReconciler[] = [];
afterEach(async () => {
  await Promise.all(reconcilers.splice(0).map((reconciler) => reconciler.driver.stop()));
});

function setup(policy: FailurePolicy = { kind: "report" }) {
  const docker = new FakeDocker();
  const log = fakeLogger();
  const proxy = docker.add("http-proxy");
  const reconciler = new JoinReconciler({ client: docker.asClient(), config: joinConfig(), log, retry: fastRetry }, policy);
  reconcilers.push(reconciler);
  const settle = async () => {
    await reconciler.driver.resync();
    await reconciler.driver.drain();
  };
  return { docker, log, proxy, reconciler, settle };
}

const event = (type: DockerEvent["type"], action: string, id: string, attributes: Record<string, string> = {}): DockerEvent => ({ type, action, id, name: attributes.name ?? "", attributes, timeNano: 0n });

describe("JoinReconciler", () => {
  test("joins and leaves; each container's env is inspected once across scans", async () => {
    const { docker, proxy, settle } = setup();
    docker.addNetwork("web");
    docker.add("web-1", { networks: ["web"], env: ["VIRTUAL_HOST=a"] });
    docker.add("db-1", { networks: ["web"] });
    await settle();
    expect(proxy.networks).toEqual(["bridge", "web"]);
    await settle();
    await settle();
    expect(docker.calls.filter((call) => call.startsWith("inspect"))).toEqual(["inspect web-1-id", "inspect db-1-id"]);
    docker.containers.get("web-1-id")!.running = false;
    await settle();
    expect(proxy.networks).toEqual(["bridge"]);
  });

  test("a burst of events while a scan is in flight is one more scan, not one per event", async () => {
    const { docker, reconciler, settle } = setup();
    await settle();
    let open!: () => void;
    docker.gate = new Promise((resolve) => (open = resolve));
    docker.addNetwork("web");
    for (let i = 0; i < 50; i++) {
      docker.add(`app-${i}`, { networks: ["web"], labels: traefikLabels });
      await reconciler.handler.onEvent(event("container", "start", `app-${i}-id`));
    }
    open();
    await reconciler.driver.drain();
    expect(reconciler.driver.stats.reconciles).toBe(1 + 2); // the first scan, the one in flight, one rerun
    expect(docker.calls.filter((call) => call === "connect web")).toHaveLength(1);
  });

  test("when only starts happened since the last full scan, just those containers are listed", async () => {
    const { docker, proxy, reconciler, settle } = setup();
    docker.addNetwork("web");
    docker.add("db-1", { networks: ["web"] });
    await settle();
    docker.calls.length = 0;
    docker.add("web-1", { networks: ["web"], env: ["VIRTUAL_HOST=a"] });
    await reconciler.handler.onEvent(event("container", "start", "web-1-id", { name: "web-1" }));
    await reconciler.driver.drain();
    expect(docker.calls).toEqual(["list containers web-1-id", "list networks", "inspect web-1-id", "connect web"]);
    expect(proxy.networks).toEqual(["bridge", "web"]);
    // A bystander's restart changes nothing; a death needs the full picture.
    await reconciler.handler.onEvent(event("container", "start", "db-1-id", { name: "db-1" }));
    await reconciler.handler.onEvent(event("container", "die", "web-1-id", { name: "web-1" }));
    docker.containers.get("web-1-id")!.running = false;
    await reconciler.driver.drain();
    expect(docker.calls.slice(4)).toEqual(["disconnect web", "list containers", "list networks"]);
  });

  test("fail-fast: a change that still fails after 3 retries calls fail and throws; the other changes are made", async () => {
    const failed: unknown[] = [];
    const { docker, proxy, reconciler, settle } = setup({ kind: "fail-fast", fail: (error) => failed.push(error) });
    for (const name of ["bad", "good"]) {
      docker.addNetwork(name);
      docker.add(`${name}-app`, { networks: [name], labels: traefikLabels });
    }
    docker.failConnect.add("bad");
    await settle();
    expect(docker.calls.filter((call) => call === "connect bad")).toHaveLength(4);
    expect(proxy.networks).toEqual(["bridge", "good"]);
    expect(failed).toHaveLength(1);
    expect((failed[0] as Error).message).toContain("no available IPv4 addresses on bad");
    expect(await reconciler.firstRun).toMatchObject({ ok: false });
  });

  test("retries do not stack: a failing scan is made scanAttempts (4) times per trigger, each list call once", async () => {
    const { docker, reconciler, settle } = setup();
    docker.failLists = true;
    await settle();
    expect(scanAttempts).toBe(4);
    expect(docker.calls.filter((call) => call === "list containers")).toHaveLength(scanAttempts);
    expect(docker.calls.filter((call) => call === "list networks")).toHaveLength(scanAttempts);
    expect(reconciler.driver.results.get("proxy")).toMatchObject({ ok: false });
    // The startup scan is judged once the driver gives up, not at its first failure.
    expect(await reconciler.firstRun).toMatchObject({ ok: false });
  });

  test("the startup scan that fails once and then passes is a good start", async () => {
    const { docker, reconciler, settle } = setup({ kind: "fail-fast", fail: () => {} });
    docker.failLists = true;
    setTimeout(() => (docker.failLists = false), 50);
    await settle();
    expect(await reconciler.firstRun).toEqual({ ok: true });
  });

  test("a change the engine refuses with a 4xx is tried once; one it fails with a 5xx four times", async () => {
    const failed: unknown[] = [];
    const { docker, settle } = setup({ kind: "fail-fast", fail: (error) => failed.push(error) });
    for (const name of ["refused", "broken"]) {
      docker.addNetwork(name);
      docker.add(`${name}-app`, { networks: [name], labels: traefikLabels });
    }
    docker.rejectConnect.add("refused");
    docker.failConnect.add("broken");
    await settle();
    expect(docker.calls.filter((call) => call === "connect refused")).toHaveLength(1);
    expect(docker.calls.filter((call) => call === "connect broken")).toHaveLength(4);
    expect(failed).toHaveLength(1);
  });

  test("keep-going: logged, then left alone for a while instead of retried at every event", async () => {
    const { docker, log, reconciler, settle } = setup({ kind: "keep-going", cooldownMs: 60_000 });
    docker.addNetwork("bad");
    docker.add("bad-app", { networks: ["bad"], labels: traefikLabels });
    docker.failConnect.add("bad");
    await settle();
    await settle();
    expect(docker.calls.filter((call) => call === "connect bad")).toHaveLength(4);
    expect(log.lines.filter((line) => line.message === "network change failed")).toHaveLength(1);
    expect(await reconciler.firstRun).toEqual({ ok: true });
  });

  test("--once (report): an unavailable proxy is logged once as a warning and changes nothing", async () => {
    const { docker, log, reconciler, settle } = setup();
    docker.containers.delete("http-proxy-id");
    await settle();
    await settle();
    expect(reconciler.lastPlan?.blocked).toBe("proxy container http-proxy does not exist");
    expect(log.lines.filter((line) => line.message === "proxy unavailable, waiting")).toHaveLength(1);
  });

  test("a die event leaves at once from the last scan, even while the list still shows the container running", async () => {
    const { docker, proxy, reconciler, settle } = setup();
    docker.addNetwork("web");
    docker.add("web-1", { networks: ["web"], labels: traefikLabels });
    await settle();
    expect(proxy.networks).toEqual(["bridge", "web"]);
    await reconciler.handler.onEvent(event("container", "die", "web-1-id", { name: "web-1" })); // the list lags: still running
    await reconciler.driver.drain();
    expect(proxy.networks).toEqual(["bridge"]);
    expect(docker.calls.indexOf("disconnect web")).toBeLessThan(docker.calls.lastIndexOf("list containers"));
  });
});
