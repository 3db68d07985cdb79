/**
 * A server "beyond the gateway" for packet tests: busybox httpd in the engine's own namespace on
 * an address that is on no container network (192.0.2.1, TEST-NET-1, on the namespace's lo). A
 * container reaches it only through a default route that leads to the engine, i.e. Docker's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, sleep, which } from "./_exec.ts";
import type { TestContainer, TestEngine } from "./engine.ts";

export const outsideAddress = "192.0.2.1";

export interface Outside extends AsyncDisposable {
  url: string;
  /** Runs a command in the engine's namespace (the "host side" of published ports). */
  hostExec(args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
}

/** Starts the outside server; it answers `outside` on http://192.0.2.1:8080/. */
export async function startOutside(engine: TestEngine): Promise<Outside> {
  const ip = (await which("ip")) ?? "ip";
  const busybox = (await which("busybox")) ?? "busybox";
  await exec(ip, ["-n", engine.name, "addr", "replace", `${outsideAddress}/32`, "dev", "lo"]);
  const dir = await mkdtemp(join(tmpdir(), "dockernet-outside-"));
  await writeFile(join(dir, "index.html"), "outside\n");
  const server: ChildProcess = spawn("nsenter", [`--net=/run/netns/${engine.name}`, busybox, "httpd", "-f", "-p", `${outsideAddress}:8080`, "-h", dir], { stdio: "ignore" });
  await sleep(200);
  const hostExec = (args: string[]) => exec("nsenter", [`--net=/run/netns/${engine.name}`, ...args], { allowFail: true, timeoutMs: 20_000 });
  return {
    url: `http://${outsideAddress}:8080/`,
    hostExec,
    async [Symbol.asyncDispose]() {
      server.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fetches `url` from inside `container` with busybox nc (busybox-static's wget crashes on this
 * Debian build); resolves with the exit code, the body and nc's message.
 */
export async function fetchFrom(container: TestContainer, url: string): Promise<{ code: number; body: string; stderr: string }> {
  const { hostname, port, pathname } = new URL(url);
  // A fixed request from test code, never a value under test.
  const request = `printf 'GET ${pathname} HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${hostname} ${port || "80"}`;
  const result = await container.exec(["sh", "-c", request]);
  const body = result.stdout.split(/\r?\n\r?\n/).slice(1).join("\n\n");
  return { code: result.stdout.startsWith("HTTP/") ? 0 : result.code || 1, body, stderr: result.stderr };
}

/** Whether `container` can fetch `url`. */
export async function canFetch(container: TestContainer, url: string): Promise<boolean> {
  return (await fetchFrom(container, url)).code === 0;
}

/**
 * A host beyond the engine: namespace `<engine>-wan`, joined to the engine's namespace by a veth
 * pair (198.51.100.1 on the engine side, 198.51.100.2 on the far side), serving
 * http://198.51.100.2:8080/. Traffic from containers reaches it only if Docker forwards it out.
 */
export async function startWan(engine: TestEngine): Promise<Outside> {
  const ip = (await which("ip")) ?? "ip";
  const busybox = (await which("busybox")) ?? "busybox";
  const wan = `${engine.name}-wan`;
  const link = `${engine.name.slice(0, 8)}wan`;
  await exec(ip, ["netns", "delete", wan], { allowFail: true });
  await exec(ip, ["netns", "add", wan]);
  await exec(ip, ["-n", engine.name, "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", wan]);
  await exec(ip, ["-n", engine.name, "addr", "add", "198.51.100.1/24", "dev", link]);
  await exec(ip, ["-n", engine.name, "link", "set", link, "up"]);
  for (const args of [["addr", "add", "198.51.100.2/24", "dev", "eth0"], ["link", "set", "eth0", "up"], ["link", "set", "lo", "up"], ["route", "add", "default", "via", "198.51.100.1"]]) {
    await exec(ip, ["-n", wan, ...args]);
  }
  const dir = await mkdtemp(join(tmpdir(), "dockernet-wan-"));
  await writeFile(join(dir, "index.html"), "wan\n");
  const server: ChildProcess = spawn("nsenter", [`--net=/run/netns/${wan}`, busybox, "httpd", "-f", "-p", "198.51.100.2:8080", "-h", dir], { stdio: "ignore" });
  await sleep(200);
  return {
    url: "http://198.51.100.2:8080/",
    hostExec: (args: string[]) => exec("nsenter", [`--net=/run/netns/${engine.name}`, ...args], { allowFail: true, timeoutMs: 20_000 }),
    async [Symbol.asyncDispose]() {
      server.kill("SIGKILL");
      await exec(ip, ["netns", "delete", wan], { allowFail: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Packets counted on their way out of the engine by Docker's route. */
export interface LeakCounter extends AsyncDisposable {
  /** The outside address to send to (TEST-NET-1, on no container network). */
  address: string;
  /** Packets that left the engine's namespace towards `address` so far. */
  count(): Promise<number>;
}

/**
 * A way out of the engine's namespace of its own: a link `dnleak0` with a route to
 * `address` (192.0.2.77), and an iptables counter on packets that leave by it (mangle
 * POSTROUTING, after Docker's FORWARD rules let them through). A container's packet to `address`
 * gets there only by Docker's route (its default route to the engine); routed through warp it goes
 * to the warp container, blocked it goes nowhere.
 */
export async function startLeakCounter(engine: TestEngine, address = "192.0.2.77"): Promise<LeakCounter> {
  const ip = (await which("ip")) ?? "ip";
  const iptables = (await which("iptables")) ?? "iptables";
  const link = "dnleak0";
  const inEngine = (program: string, args: string[]) => exec("nsenter", [`--net=/run/netns/${engine.name}`, program, ...args], { timeoutMs: 20_000 });
  const rule = ["POSTROUTING", "-o", link, "-d", `${address}/32`, "-j", "ACCEPT"];
  await exec(ip, ["-n", engine.name, "link", "del", link], { allowFail: true });
  // A veth pair whose far end stays in the engine too (the kernel here has no dummy links), with a
  // fixed neighbour so a packet leaves at once instead of waiting on ARP.
  await exec(ip, ["-n", engine.name, "link", "add", link, "type", "veth", "peer", "name", `${link}p`]);
  for (const name of [link, `${link}p`]) await exec(ip, ["-n", engine.name, "link", "set", name, "up"]);
  await exec(ip, ["-n", engine.name, "route", "replace", `${address}/32`, "dev", link]);
  await exec(ip, ["-n", engine.name, "neigh", "replace", address, "lladdr", "02:00:00:00:00:77", "dev", link]);
  await inEngine(iptables, ["-w", "-t", "mangle", "-A", ...rule]);
  return {
    address,
    async count() {
      const listed = await inEngine(iptables, ["-w", "-t", "mangle", "-L", "POSTROUTING", "-n", "-v", "-x"]);
      const line = listed.stdout.split("\n").find((entry) => entry.includes(link) && entry.includes(address));
      if (line === undefined) throw new Error(`the leak counter rule is gone:\n${listed.stdout}`);
      return Number(line.trim().split(/\s+/)[0]);
    },
    async [Symbol.asyncDispose]() {
      await inEngine(iptables, ["-w", "-t", "mangle", "-D", ...rule]).catch(() => {});
      await exec(ip, ["-n", engine.name, "link", "del", link], { allowFail: true });
    },
  };
}
