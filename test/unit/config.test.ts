import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { globalFlagValues } from "../../src/config/globals.ts";
import type { LoadOptions } from "../../src/config/load.ts";
import { defaults, loadConfig } from "../../src/modes/config.ts";
import { keyCount } from "./_config-keys.ts";

const dir = mkdtempSync(join(tmpdir(), "dockernet-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function tomlFile(text: string): string {
  const path = join(dir, `config-${++files}.toml`);
  writeFileSync(path, text);
  return path;
}

/** Hermetic: no process.env, no /etc/dockernet/config.toml. */
function load(options: LoadOptions = {}) {
  return loadConfig({ env: {}, defaultFile: join(dir, "absent.toml"), ...options });
}

describe("loadConfig precedence: flag > env > file > default", () => {
  test("nothing given: the defaults, every source 'default', no file", async () => {
    const resolved = await load();
    expect(resolved.config).toEqual(defaults);
    expect(resolved.file).toBeUndefined();
    expect(Object.keys(resolved.sources)).toHaveLength(keyCount(defaults));
    expect(new Set(Object.values(resolved.sources))).toEqual(new Set(["default"]));
  });

  test("file beats default", async () => {
    const file = tomlFile('[warp]\ncontainer_pattern = "gw-*"\nroutes = ["10.0.0.0/8:tcp:443"]\n');
    const resolved = await load({ file });
    expect(resolved.file).toBe(file);
    expect(resolved.config.warp.container_pattern).toBe("gw-*");
    expect(resolved.config.warp.routes).toEqual([{ cidr: "10.0.0.0/8", family: 4, proto: "tcp", ports: { lo: 443, hi: 443 }, text: "10.0.0.0/8:tcp:443" }]);
    expect(resolved.sources["warp.container_pattern"]).toBe("file");
    expect(resolved.sources["warp.label_prefix"]).toBe("default");
  });

  test("env beats file", async () => {
    const file = tomlFile('[warp]\ncontainer_pattern = "gw-*"\n');
    const resolved = await load({ file, env: { DOCKERNET_WARP_CONTAINER_PATTERN: "env-*" } });
    expect(resolved.config.warp.container_pattern).toBe("env-*");
    expect(resolved.sources["warp.container_pattern"]).toBe("env");
  });

  test("flag beats env", async () => {
    const resolved = await load({
      env: { DOCKERNET_LOG_LEVEL: "warn", DOCKERNET_WARP_CONTAINER_PATTERN: "env-*" },
      flags: { log: { level: "debug", format: undefined }, warp: { container_pattern: "flag-*" } },
    });
    expect(resolved.config.log).toEqual({ level: "debug", format: "pretty" });
    expect(resolved.config.warp.container_pattern).toBe("flag-*");
    expect(resolved.sources).toMatchObject({ "log.level": "flag", "log.format": "default", "warp.container_pattern": "flag" });
  });

  test("env arrays: comma-separated (trimmed, empties dropped) or a TOML array", async () => {
    const resolved = await load({
      env: { DOCKERNET_WARP_ROUTES: " 10.0.0.0/8 ,, 192.168.0.0/16:udp ", DOCKERNET_JOIN_ENV_VARS: '["VIRTUAL_HOST", "LETSENCRYPT_HOST"]', DOCKERNET_JOIN_EXCLUDE_NETWORKS: "" },
    });
    expect(resolved.config.warp.routes.map((rule) => rule.cidr)).toEqual(["10.0.0.0/8", "192.168.0.0/16"]);
    expect(resolved.config.join.env_vars).toEqual(["VIRTUAL_HOST", "LETSENCRYPT_HOST"]);
    expect(resolved.config.join.exclude_networks).toEqual([]);
    expect(resolved.sources["join.exclude_networks"]).toBe("env");
  });

  test("flag arrays come as strings or arrays", async () => {
    const resolved = await load({ flags: { join: { drivers: "bridge, macvlan", exclude_networks: ["a", "b"] } } });
    expect(resolved.config.join.drivers).toEqual(["bridge", "macvlan"]);
    expect(resolved.config.join.exclude_networks).toEqual(["a", "b"]);
  });
});

describe("config file location", () => {
  test("DOCKERNET_CONFIG names the file when --config does not", async () => {
    const file = tomlFile('[log]\nformat = "json"\n');
    const resolved = await load({ env: { DOCKERNET_CONFIG: file } });
    expect(resolved.file).toBe(file);
    expect(resolved.config.log.format).toBe("json");
  });

  test("--config beats DOCKERNET_CONFIG", async () => {
    const file = tomlFile('[log]\nformat = "json"\n');
    const resolved = await load({ file, env: { DOCKERNET_CONFIG: join(dir, "absent.toml") } });
    expect(resolved.file).toBe(file);
  });

  test("the default file is read when it exists", async () => {
    const file = tomlFile('[join]\ncontainer_name = "proxy"\n');
    const resolved = await loadConfig({ env: {}, defaultFile: file });
    expect(resolved.file).toBe(file);
    expect(resolved.config.join.container_name).toBe("proxy");
  });

  test("an explicitly named file that does not exist is CONFIG_UNREADABLE, exit 2", async () => {
    const missing = join(dir, "nope.toml");
    for (const options of [{ file: missing }, { env: { DOCKERNET_CONFIG: missing } }]) {
      const error = await load(options).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: "DockernetError", code: "CONFIG_UNREADABLE", exitCode: 2 });
      expect((error as Error).message).toContain(`${missing} does not exist`);
    }
  });

  test("a file that cannot be read (a directory) is CONFIG_UNREADABLE", async () => {
    await expect(load({ file: dir })).rejects.toMatchObject({ code: "CONFIG_UNREADABLE", exitCode: 2 });
  });
});

describe("docker.host", () => {
  test("flag > DOCKERNET_DOCKER_HOST > DOCKER_HOST > file > default", async () => {
    const file = tomlFile('[docker]\nhost = "tcp://file:2375"\n');
    const env = { DOCKERNET_DOCKER_HOST: "tcp://dockernet:2375", DOCKER_HOST: "tcp://docker:2375" };
    const host = async (options: LoadOptions) => {
      const resolved = await load(options);
      return [resolved.config.docker.host, resolved.sources["docker.host"]];
    };
    expect(await host({ file, env, flags: globalFlagValues({ "docker-host": "ssh://flag" }) })).toEqual(["ssh://flag", "flag"]);
    expect(await host({ file, env })).toEqual(["tcp://dockernet:2375", "env"]);
    expect(await host({ file, env: { DOCKER_HOST: "tcp://docker:2375" } })).toEqual(["tcp://docker:2375", "env DOCKER_HOST"]);
    expect(await host({ file, env: { DOCKER_HOST: "" } })).toEqual(["tcp://file:2375", "file"]);
    expect(await host({})).toEqual(["unix:///var/run/docker.sock", "default"]);
  });
});

describe("globalFlagValues", () => {
  test("maps the global flags to their sections", () => {
    expect(globalFlagValues({ "log-level": "trace", "log-format": "json", "docker-host": "unix:///x.sock" })).toEqual({
      log: { level: "trace", format: "json" },
      docker: { host: "unix:///x.sock" },
    });
  });
});
