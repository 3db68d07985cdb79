/**
 * The baseline of the `join --once` benchmark, run as its own process like dockernet: the same
 * Docker calls `join --once` needs (list containers, list networks, inspect each running container
 * whose labels do not decide whether it is routable), one after the other, then (with --connect)
 * the same connects. Prints one JSON line: { ms, inspected, connected }.
 * Usage: bun test/bench/join-baseline.ts DOCKER_SOCKET [--connect]
 */
import Docker from "dockerode";

const started = performance.now();
const docker = new Docker({ socketPath: process.argv[2] });
const containers = await docker.listContainers();
const networks = await docker.listNetworks();
const proxy = containers.find((container) => container.Names[0] === "/http-proxy");
const wanted = new Set<string>();
let inspected = 0;
for (const container of containers) {
  if (container === proxy) continue;
  const labels = Object.keys(container.Labels ?? {});
  let routable = labels.some((label) => label.startsWith("traefik.")) && container.Labels["traefik.enable"] !== "false";
  if (!routable && !labels.includes("traefik.enable")) {
    const info = await docker.getContainer(container.Id).inspect();
    inspected++;
    routable = (info.Config.Env ?? []).some((entry) => entry.startsWith("VIRTUAL_HOST="));
  }
  if (routable) for (const endpoint of Object.values(container.NetworkSettings.Networks)) wanted.add(endpoint.NetworkID);
}
let connected = 0;
if (process.argv.includes("--connect") && proxy) {
  const joined = new Set(Object.values(proxy.NetworkSettings.Networks).map((endpoint) => endpoint.NetworkID));
  for (const network of networks) {
    if (network.Driver !== "bridge" || !wanted.has(network.Id) || joined.has(network.Id)) continue;
    await docker.getNetwork(network.Id).connect({ Container: proxy.Id });
    connected++;
  }
}
console.log(JSON.stringify({ ms: performance.now() - started, inspected, connected }));
