import { describe, expect, test } from "bun:test";
import { DockernetError } from "../../src/core/errors.ts";
import { withRetry } from "../../src/modes/join/_retry.ts";
import { fakeLogger } from "./_join-fake-docker.ts";

const policy = { retries: 3, initialMs: 2, maxMs: 20 };

function failing(times: number, code: string) {
  let calls = 0;
  const call = async () => {
    calls++;
    if (calls <= times) throw new DockernetError(`failure ${calls}`, { code });
    return "ok";
  };
  return { call, calls: () => calls };
}

describe("withRetry", () => {
  test("a transient failure (5xx, no answer) is tried again, 3 more times at most, with growing delays", async () => {
    const log = fakeLogger();
    const passes = failing(3, "DOCKER_API");
    expect(await withRetry("connect web", passes.call, { log, policy })).toBe("ok");
    expect(passes.calls()).toBe(4);
    expect(log.lines.map((line) => line.fields?.delay_ms)).toEqual([2, 8, 20]);

    const never = failing(9, "DOCKER_UNREACHABLE");
    await expect(withRetry("list containers", never.call, { log, policy })).rejects.toThrow("failure 4");
    expect(never.calls()).toBe(4);
  });

  test("a 404 or another 4xx is not tried again", async () => {
    for (const code of ["DOCKER_NOT_FOUND", "DOCKER_REJECTED"]) {
      const once = failing(9, code);
      await expect(withRetry("connect web", once.call, { log: fakeLogger(), policy })).rejects.toThrow("failure 1");
      expect(once.calls()).toBe(1);
    }
  });
});
