import { describe, expect, test } from "bun:test";
import { DockernetError } from "../../src/core/errors.ts";
import type { LoadOptions } from "../../src/config/load.ts";
import { loadConfig } from "../../src/modes/config.ts";

/** Hermetic: no process.env, no /etc/dockernet/config.toml. */
function load(options: LoadOptions = {}) {
  return loadConfig({ env: {}, defaultFile: "/nonexistent/dockernet.toml", ...options });
}

async function problems(options: LoadOptions): Promise<string[]> {
  const error = await load(options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DockernetError);
  return (error as Error).message.split("\n").slice(1).map((line) => line.trim());
}

describe("warp.on_gateway_down, warp.mtu, warp.verify_interval", () => {
  test("defaults: block, no MTU lock, verify every minute", async () => {
    const { config, sources } = await load();
    expect(config.warp).toMatchObject({ on_gateway_down: "block", mtu: 0, verify_interval: 60_000 });
    expect(sources).toMatchObject({ "warp.on_gateway_down": "default", "warp.mtu": "default", "warp.verify_interval": "default" });
  });

  test("from env: the MTU as a number, the interval in milliseconds", async () => {
    const env = { DOCKERNET_WARP_ON_GATEWAY_DOWN: "restore", DOCKERNET_WARP_MTU: "1280", DOCKERNET_WARP_VERIFY_INTERVAL: "30s" };
    const { config, sources } = await load({ env });
    expect(config.warp).toMatchObject({ on_gateway_down: "restore", mtu: 1280, verify_interval: 30_000 });
    expect(sources).toMatchObject({ "warp.on_gateway_down": "env", "warp.mtu": "env", "warp.verify_interval": "env" });
  });

  test("from flags, strings as a command line gives them", async () => {
    const { config } = await load({ flags: { warp: { on_gateway_down: "restore", mtu: "1400", verify_interval: "2m" } } });
    expect(config.warp).toMatchObject({ on_gateway_down: "restore", mtu: 1400, verify_interval: 120_000 });
  });

  test("the edges of the MTU range, and 0 for none", async () => {
    for (const mtu of ["0", "576", "9216"]) expect((await load({ env: { DOCKERNET_WARP_MTU: mtu } })).config.warp.mtu).toBe(Number(mtu));
  });

  test("bad values name the key, the value and the source", async () => {
    const lines = await problems({ env: { DOCKERNET_WARP_ON_GATEWAY_DOWN: "maybe", DOCKERNET_WARP_MTU: "100", DOCKERNET_WARP_VERIFY_INTERVAL: "0s" } });
    expect(lines).toEqual([
      'warp.on_gateway_down: "maybe" is not one of block, restore (from env DOCKERNET_WARP_ON_GATEWAY_DOWN)',
      "warp.mtu: 100 is not an MTU between 576 and 9216 (or 0 for none) (from env DOCKERNET_WARP_MTU)",
      'warp.verify_interval: "0s" must be longer than 0 (from env DOCKERNET_WARP_VERIFY_INTERVAL)',
    ]);
  });

  test("an MTU that is not a whole number", async () => {
    for (const mtu of ["abc", "1280.5", "-1", "123456"]) {
      expect(await problems({ env: { DOCKERNET_WARP_MTU: mtu } })).toEqual([`warp.mtu: ${JSON.stringify(mtu)} is not an MTU (a number) (from env DOCKERNET_WARP_MTU)`]);
    }
    expect(await problems({ env: { DOCKERNET_WARP_MTU: "9217" } })).toEqual([
      "warp.mtu: 9217 is not an MTU between 576 and 9216 (or 0 for none) (from env DOCKERNET_WARP_MTU)",
    ]);
  });
});
