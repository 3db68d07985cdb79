/**
 * Clearing what a test engine leaves behind, whether it stopped cleanly or its run was killed:
 * processes (dockerd, containerd, shims, docker-proxy, container processes), mounts under its
 * directory, its network namespace and the directory itself.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { exec } from "./_exec.ts";
import { killAll, listProcesses, type Proc } from "./processes.ts";

/** Daemon-side programs that may mention the engine directory on their command line. */
const DAEMONS = /^(dockerd|containerd|containerd-shim.*|docker-proxy|runc)$/;

/** SIGKILLs every process in netns `name` or run from `dir` (plus the shims' container processes). */
export async function killEngineProcesses(name: string, dir: string): Promise<void> {
  const nsIno = await stat(`/run/netns/${name}`).then((s) => s.ino, () => undefined);
  const inNs = nsIno === undefined ? "" : `net:[${nsIno}]`;
  const procs = await listProcesses();
  const mentionsDir = (p: Proc) =>
    DAEMONS.test((p.argv[0] ?? "").split("/").pop() ?? "") &&
    p.argv.some((arg) => arg === dir || arg.startsWith(`${dir}/`) || arg.includes(`=${dir}/`));
  const pidfile = Number(await readFile(`${dir}/docker.pid`, "utf8").catch(() => ""));
  const owned = procs.filter(
    (p) => (inNs !== "" && p.netns === inNs) || mentionsDir(p) || (p.pid === pidfile && p.argv[0]?.endsWith("dockerd")),
  );
  const shims = new Set(owned.filter((p) => /containerd-shim/.test(p.argv[0] ?? "")).map((p) => p.pid));
  // Container processes first (killing a pid namespace's init ends the namespace), then daemons.
  const victims = [...procs.filter((p) => shims.has(p.ppid)), ...owned];
  await killAll(victims.map((p) => p.pid), `processes of test engine ${name}`);
}

/** Mount points at or under `dir`, deepest first, from /proc/self/mountinfo. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return info
    .split("\n")
    .map((line) => unescape(line.split(" ")[4] ?? ""))
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything at or under `dir`; throws if something stays mounted. */
export async function unmountUnder(dir: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const point of points) await exec("umount", ["-l", point], { allowFail: true });
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`cannot unmount under ${dir}: ${left.join(" ")}`);
}

/** Deletes network namespace `name` if it exists. */
export async function deleteNetns(ip: string, name: string): Promise<void> {
  const exists = await stat(`/run/netns/${name}`).then(() => true, () => false);
  if (exists) await exec(ip, ["netns", "delete", name]);
}

/**
 * Leaves no trace of test engine `name` in `dir`: kills its processes, unmounts what is mounted
 * under `dir`, deletes the netns and removes `dir`. Safe to call when nothing is there.
 */
export async function clearEngine(ip: string, name: string, dir: string): Promise<void> {
  await killEngineProcesses(name, dir);
  await unmountUnder(dir);
  await deleteNetns(ip, name);
  await rm(dir, { recursive: true, force: true });
}
