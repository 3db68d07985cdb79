import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { which } from "../support/_exec.ts";
import { repoRoot, waitFor } from "../support/dockernet.ts";
import { TestEngine } from "../support/engine.ts";
import { importHostImage } from "../support/host-image.ts";
import { nextHop } from "../support/routing.ts";

setDefaultTimeout(180_000);

let engine: TestEngine;
beforeAll(async () => {
  engine = await TestEngine.start({ name: "dntest-swarm", subnet: 105 });
  // The images the README's files name, made from this machine's files: the static docker CLI, and
  // the compiled binary with nsenter and ip (what the README's Dockerfile installs).
  const [docker = "docker", nsenter = "nsenter", ip = "ip"] = await Promise.all(["docker", "nsenter", "ip"].map(async (command) => (await which(command)) ?? command));
  await importHostImage(engine, "docker:cli", { "/usr/local/bin/docker": docker });
  await importHostImage(
    engine,
    "dockernet:0.1.0",
    { "/usr/local/bin/dockernet": join(repoRoot, "dist/dockernet"), "/usr/bin/nsenter": nsenter, "/usr/sbin/ip": ip },
    ['ENTRYPOINT ["/usr/local/bin/dockernet"]', 'CMD ["run", "warp", "join"]', "ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin"],
  );
});
afterAll(async () => {
  await engine?.stop();
});

/** A fenced code block of the README, found by its first line. */
async function readmeBlock(firstLine: string): Promise<string> {
  const readme = await readFile(join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf(`\n${firstLine}\n`);
  if (start < 0) throw new Error(`README.md has no block starting with ${firstLine}`);
  return readme.slice(start + 1, readme.indexOf("\n```", start));
}

/** The keys of `value`, failing on any outside `known`: a misspelt field must not pass unnoticed. */
function fields(value: unknown, known: string[], where: string): Record<string, unknown> {
  const object = value as Record<string, unknown>;
  const unknown = Object.keys(object ?? {}).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new Error(`${where}: fields this test does not know: ${unknown.join(", ")}`);
  return object;
}

/**
 * What a kubelet with Docker as its engine does with the README's DaemonSet pod, as `docker run`
 * arguments: every field the manifest uses is mapped, and any other field fails the test.
 */
function podAsDockerRun(manifest: unknown, socketPath: string): string[] {
  const top = fields(manifest, ["apiVersion", "kind", "metadata", "spec"], "DaemonSet");
  expect([top.apiVersion, top.kind]).toEqual(["apps/v1", "DaemonSet"]);
  const spec = fields(top.spec, ["selector", "template"], "spec");
  const template = fields(spec.template, ["metadata", "spec"], "spec.template");
  expect((template.metadata as { labels: unknown }).labels).toEqual((spec.selector as { matchLabels: unknown }).matchLabels);
  const pod = fields(template.spec, ["hostPID", "containers", "volumes"], "pod spec");
  const [container] = pod.containers as unknown[];
  const c = fields(container, ["name", "image", "args", "securityContext", "volumeMounts"], "container");
  const capabilities = fields(fields(c.securityContext, ["capabilities"], "securityContext").capabilities, ["add"], "capabilities");
  const volumes = new Map((pod.volumes as { name: string; hostPath: { path: string; type: string } }[]).map((volume) => [volume.name, volume.hostPath.path]));
  const mounts = (c.volumeMounts as { name: string; mountPath: string }[]).map((mount) => {
    const path = volumes.get(mount.name);
    if (path === undefined) throw new Error(`volumeMount ${mount.name} has no volume`);
    // The one host-specific value: this engine's socket is not /var/run/docker.sock.
    return `--volume=${path === "/var/run/docker.sock" ? socketPath : path}:${mount.mountPath}`;
  });
  return [
    "run", "-d", "--name=dockernet-pod",
    ...(pod.hostPID === true ? ["--pid=host"] : []),
    ...(capabilities.add as string[]).map((cap) => `--cap-add=${cap}`),
    ...mounts,
    String(c.image),
    ...(c.args as string[]),
  ];
}

describe("Beyond one machine", () => {
  test("the README's Swarm stack, deployed as written, runs dockernet on the node and routes a target", async () => {
    await engine.docker(["swarm", "init", "--advertise-addr", "10.213.105.1"]);
    const stack = join(tmpdir(), `dockernet-stack-${engine.runId}.yml`);
    // As written, but for the one host-specific value: this engine's socket is not /var/run/docker.sock.
    const written = await readmeBlock("# dockernet-stack.yml");
    expect(written).toContain("/var/run/docker.sock:/var/run/docker.sock");
    await writeFile(stack, written.replaceAll("/var/run/docker.sock:", `${engine.socketPath}:`));
    try {
      await engine.docker(["stack", "deploy", "-c", stack, "dockernet"]);
      const net = await engine.network("vpn", { subnet: "10.86.1.0/24" });
      const warp = await engine.run("warp-1", { network: net.name });
      const app = await engine.run("app", { network: net.name, labels: { "network.warp.target": "warp-1" } });
      await waitFor("the launcher to start dockernet", async () => (await engine.docker(["ps", "-q", "--filter", "name=^dockernet$"])).stdout.trim() !== "", 60_000, 500);
      await waitFor("the target routed by the deployed dockernet", async () => (await nextHop(app, "1.1.1.1")) === (await warp.ip(net.name)), 60_000, 500);
      const inspect = await engine.docker(["inspect", "-f", "{{.HostConfig.PidMode}} {{.HostConfig.CapAdd}}", "dockernet"]);
      expect(inspect.stdout.trim()).toBe("host [CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE]");
    } finally {
      await engine.docker(["stack", "rm", "dockernet"], { allowFail: true });
      await engine.docker(["rm", "-f", "dockernet"], { allowFail: true });
      await engine.docker(["swarm", "leave", "--force"], { allowFail: true });
      await rm(stack, { force: true });
    }
  });

  test("the README's Kubernetes DaemonSet pod, run as a kubelet with Docker would run it, routes a target", async () => {
    const manifest = Bun.YAML.parse(await readmeBlock("# dockernet-daemonset.yml"));
    const run = podAsDockerRun(manifest, engine.socketPath);
    try {
      await engine.docker(run);
      const net = await engine.network("vpn2", { subnet: "10.86.2.0/24" });
      const warp = await engine.run("warp-2", { network: net.name });
      const app = await engine.run("app2", { network: net.name, labels: { "network.warp.target": "warp-2" } });
      await waitFor("the target routed by the pod", async () => (await nextHop(app, "1.1.1.1")) === (await warp.ip(net.name)), 60_000, 500);
    } finally {
      await engine.docker(["rm", "-f", "dockernet-pod"], { allowFail: true });
    }
  });
});
