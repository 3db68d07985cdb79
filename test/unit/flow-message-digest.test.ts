import { describe, expect, test } from "bun:test";
import type { Activity } from "../../src/modes/flow/protocol/activity.ts";
import { MessageDigest } from "../../src/modes/flow/manager/_message-digest.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("message activity", () => {
  test("the first message of a window is told at once, the rest of it as one entry with count and commands", async () => {
    const told: Activity[] = [];
    const digest = new MessageDigest((entry) => told.push(entry), 50);
    const web = { id: "web-id", name: "web" };
    digest.answered(web, "ping");
    for (const command of ["dump", "ping", "dump"]) digest.answered(web, command);
    digest.answered({ id: "db-id", name: "db" }, "ping");
    expect(told.map((entry) => entry.message)).toEqual(["ping answered by web", "ping answered by db"]);
    await sleep(80);
    expect(told[2]).toMatchObject({ kind: "message", container_id: "web-id", message: "3 more messages answered by web", details: { count: 3, commands: ["dump", "ping"] } });
    expect(told).toHaveLength(3);
    digest.answered(web, "ping");
    expect(told.at(-1)?.message).toBe("ping answered by web");
    digest.flushAll();
    expect(told).toHaveLength(4);
  });
});
