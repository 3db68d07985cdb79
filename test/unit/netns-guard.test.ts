import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { assertContainerNetns } from "../../src/net/netns-guard.ts";

describe("assertContainerNetns", () => {
  test("refuses a process outside the container's cgroup, and dockernet's own namespace", async () => {
    const id = "b6d93a2cf1aa18db61eb6aaa0fa688c36c43c7d6737d2a2201b00100963486be";
    await expect(assertContainerNetns(process.pid, id)).rejects.toThrow("is not in that container's cgroup");
    const sleeper = spawn("sleep", ["5"]);
    try {
      // A process of ours, in our cgroup and our namespace: passes the cgroup test, not the namespace one.
      const ownCgroup = (await Bun.file(`/proc/${sleeper.pid}/cgroup`).text()).trim().split(":").at(-1) ?? "";
      await expect(assertContainerNetns(sleeper.pid ?? 0, ownCgroup)).rejects.toThrow("dockernet's own network namespace");
    } finally {
      sleeper.kill();
    }
    await expect(assertContainerNetns(2 ** 22 + 12345, id)).rejects.toThrow("no such process on this host");
  });
});
