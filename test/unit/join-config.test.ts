import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DockernetError } from "../../src/core/errors.ts";
import { loadConfig } from "../../src/modes/config.ts";
import { useScratch } from "../support/scratch.ts";

const absent = join(useScratch("dockernet-join-config-")(), "absent.toml");

describe("join config", () => {
  test("keep_going: false by default; true from the flag or DOCKERNET_JOIN_KEEP_GOING, flag first", async () => {
    expect((await loadConfig({ env: {}, defaultFile: absent })).config.join.keep_going).toBe(false);
    const fromEnv = await loadConfig({ env: { DOCKERNET_JOIN_KEEP_GOING: "true" }, defaultFile: absent });
    expect(fromEnv.config.join.keep_going).toBe(true);
    expect(fromEnv.sources["join.keep_going"]).toBe("env");
    const flagWins = await loadConfig({ env: { DOCKERNET_JOIN_KEEP_GOING: "true" }, flags: { join: { keep_going: false } }, defaultFile: absent });
    expect(flagWins.config.join.keep_going).toBe(false);
  });

  test("a value that is not true or false is a config error naming it", async () => {
    const error = await loadConfig({ env: { DOCKERNET_JOIN_KEEP_GOING: "yes" }, defaultFile: absent }).catch((caught: DockernetError) => caught);
    expect(error).toBeInstanceOf(DockernetError);
    expect((error as DockernetError).message).toContain('join.keep_going: "yes" is not true or false (from env DOCKERNET_JOIN_KEEP_GOING)');
  });
});
