import { describe, expect, test } from "bun:test";
import { parse } from "smol-toml";
import { renderResolved, renderResolvedJson } from "../../src/config/render.ts";
import { configSpec, defaults, loadConfig } from "../../src/modes/config.ts";
import { keyCount } from "./_config-keys.ts";

const keys = keyCount(defaults);

const resolved = () =>
  loadConfig({
    env: { DOCKERNET_WARP_ROUTES: "10.1.0.0/16:tcp:80-443,2001:db8::1/32", DOCKER_HOST: "tcp://docker:2375" },
    flags: { log: { level: "debug" } },
    defaultFile: "/nonexistent/dockernet.toml",
  });

describe("renderResolved", () => {
  test("is a config file: it parses back to the values as written, so it can be saved and used", async () => {
    const config = await resolved();
    expect(parse(renderResolved(configSpec, config)) as unknown).toEqual(renderResolvedJson(configSpec, config).values);
  });

  test("every key with its value and source, durations as written", async () => {
    const text = renderResolved(configSpec, await resolved());
    expect(text).toContain("# config file: none");
    expect(text).toContain('[log]\nlevel = "debug"  # flag --log-level\nformat = "pretty"  # default\n');
    expect(text).toContain('host = "tcp://docker:2375"  # env DOCKER_HOST');
    // smol-toml writes the values (arrays as `[ "a", "b" ]`).
    expect(text).toContain('routes = [ "10.1.0.0/16:tcp:80-443", "2001:db8::/32" ]  # env DOCKERNET_WARP_ROUTES');
    expect(text).toContain('resync_interval = "5m"  # default');
    expect(text).toContain("exclude_networks = []  # default");
    expect(text).toContain('on_gateway_down = "block"  # default\nmtu = 0  # default\n');
    expect(text).toContain('verify_interval = "1m"  # default');
    expect(text.match(/ # /g)).toHaveLength(keys);
  });

  test("JSON: file, values as written, sources", async () => {
    const json = renderResolvedJson(configSpec, await resolved());
    expect(json.file).toBeNull();
    expect(json.values.warp).toEqual({
      container_pattern: "warp-*",
      label_prefix: "network.warp",
      routes: ["10.1.0.0/16:tcp:80-443", "2001:db8::/32"],
      on_gateway_down: "block",
      mtu: 0,
      resync_interval: "5m",
      verify_interval: "1m",
      runc: "runc",
    });
    expect(json.sources["warp.routes"]).toBe("env");
    expect(json.sources["docker.host"]).toBe("env DOCKER_HOST");
  });
});

describe("secrets", () => {
  test("a secret key is shown as set, never printed, in text and JSON", async () => {
    const config = await loadConfig({ env: { DOCKERNET_BRIDGE_HETZNER_TOKEN: "supersecret123" }, defaultFile: "/nonexistent/dockernet.toml" });
    const text = renderResolved(configSpec, config);
    expect(text).toContain('[bridge.hetzner]\ntoken = "(set, not shown)"  # env DOCKERNET_BRIDGE_HETZNER_TOKEN');
    expect(text + JSON.stringify(renderResolvedJson(configSpec, config))).not.toContain("supersecret123");
  });
});
