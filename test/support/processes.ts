/**
 * The host's processes read from /proc, to find what a killed test run left behind (its dockerd,
 * sshd, containers) and to count sessions; and killing them for good.
 */
import { readdir, readFile, readlink } from "node:fs/promises";
import { gone, sleep } from "./_exec.ts";

/** One process, as the leftover sweeps match it. */
export interface Proc {
  pid: number;
  ppid: number;
  /** The kernel's short name (`sshd`), from /proc/PID/comm. */
  comm: string;
  argv: string[];
  /** The arguments joined by spaces, for substring matches. */
  cmdline: string;
  /** `net:[INODE]` of its network namespace; empty when it cannot be read. */
  netns: string;
}

/** Every process but init and this one; kernel threads and processes gone meanwhile are left out. */
export async function listProcesses(): Promise<Proc[]> {
  const procs: Proc[] = [];
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const comm = (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
      const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
      const netns = await readlink(`/proc/${pid}/ns/net`).catch(() => "");
      procs.push({ pid, ppid, comm, argv, cmdline: argv.join(" "), netns });
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return procs;
}

/** SIGKILLs `pids` in order and waits until they are gone; fails naming `what` after 10 s. */
export async function killAll(pids: readonly number[], what = "processes"): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const deadline = Date.now() + 10_000; ; await sleep(25)) {
    const left: number[] = [];
    for (const pid of pids) if (!(await gone(pid))) left.push(pid);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${what} survive SIGKILL: ${left.join(" ")}`);
  }
}
