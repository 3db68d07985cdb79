import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockernetError } from "../../src/core/errors.ts";
import type { LoadOptions } from "../../src/config/load.ts";
import { loadConfig } from "../../src/modes/config.ts";

const dir = mkdtempSync(join(tmpdir(), "dockernet-config-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function tomlFile(text: string): string {
  const path = join(dir, `config-${++files}.toml`);
  writeFileSync(path, text);
  return path;
}

/** The one CONFIG_INVALID error loadConfig throws, with its problem lines. */
async function problems(options: LoadOptions): Promise<string[]> {
  const error = await loadConfig({ env: {}, defaultFile: join(dir, "absent.toml"), ...options }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DockernetError);
  expect(error).toMatchObject({ code: "CONFIG_INVALID", exitCode: 2 });
  return (error as Error).message.split("\n").slice(1).map((line) => line.trim());
}

describe("unknown names are errors", () => {
  test("unknown section and key in the file", async () => {
    const file = tomlFile('[warp]\nbogus = 1\n[mystery]\nx = 1\n[warp.nested]\n');
    expect(await problems({ file })).toEqual([
      `warp.bogus: unknown key (from ${file})`,
      `warp.nested: unknown key (from ${file})`,
      `mystery: unknown section (from ${file})`,
    ]);
  });

  test("unknown DOCKERNET_* variables; DOCKERNET_CONFIG and other variables are fine", async () => {
    const lines = await problems({
      env: { DOCKERNET_WARP_BOGUS: "x", DOCKERNET_MYSTERY_X: "1", DOCKERNET_LOG: "x", DOCKERNET_log_level: "info", DOCKERNET_CONFIG: "", HOME: "/root" },
    });
    expect(lines).toEqual([
      "warp.bogus: unknown key (from env DOCKERNET_WARP_BOGUS)",
      "mystery.x: unknown section (from env DOCKERNET_MYSTERY_X)",
      "log: unknown key (from env DOCKERNET_LOG)",
      "DOCKERNET_log_level: unknown variable, write it in upper case (from env DOCKERNET_log_level)",
    ]);
  });

  test("a section that is not a table", async () => {
    const file = tomlFile('log = "debug"\n');
    expect(await problems({ file })).toEqual([`log: must be a table [log] (from ${file})`]);
  });

  test("the hint lists the known keys", async () => {
    const error = await loadConfig({ env: { DOCKERNET_WARP_BOGUS: "1" }, defaultFile: join(dir, "absent.toml") }).catch((caught: DockernetError) => caught);
    expect((error as DockernetError).hint).toContain("[warp] container_pattern, label_prefix, routes, on_gateway_down, mtu, resync_interval, verify_interval");
  });
});

describe("bad values name the field, the value and the source", () => {
  test("every problem of every layer in one error", async () => {
    const file = tomlFile('[warp]\nroutes = ["10.0.0.0/8", "10.0.0.0/33", "0.0.0.0/0;rm -rf /"]\nlabel_prefix = "Network.Warp"\n[join]\ndrivers = []\n');
    const lines = await problems({
      file,
      env: { DOCKERNET_LOG_FORMAT: "xml", DOCKERNET_JOIN_ENV_VARS: "OK,1BAD" },
      flags: { log: { level: "loud" } },
    });
    expect(lines).toEqual([
      'log.level: "loud" is not one of silent, error, warn, info, debug, trace (from flag --log-level)',
      'log.format: "xml" is not one of pretty, json (from env DOCKERNET_LOG_FORMAT)',
      `warp.label_prefix: "Network.Warp" is not a label prefix (lower case letters, digits, . _ -) (from ${file})`,
      `warp.routes[1]: "10.0.0.0/33" is not a CIDR (from ${file})`,
      `warp.routes[2]: "0.0.0.0/0;rm -rf /" contains characters not allowed in a rule: ";" " " (from ${file})`,
      'join.env_vars[1]: "1BAD" is not an environment variable name (from env DOCKERNET_JOIN_ENV_VARS)',
      `join.drivers: must not be empty (from ${file})`,
    ]);
  });

  test("a bad value is reported even when a higher layer overrides it", async () => {
    const file = tomlFile('[log]\nlevel = "loud"\n');
    expect(await problems({ file, flags: { log: { level: "debug" } } })).toEqual([
      `log.level: "loud" is not one of silent, error, warn, info, debug, trace (from ${file})`,
    ]);
  });

  test("wrong TOML types", async () => {
    const file = tomlFile('[warp]\nroutes = "10.0.0.0/8"\ncontainer_pattern = 5\n[join]\nenv_vars = [1]\n');
    expect(await problems({ file })).toEqual([
      `warp.container_pattern: must be a string (got 5) (from ${file})`,
      `warp.routes: must be an array of strings (got "10.0.0.0/8") (from ${file})`,
      `join.env_vars[0]: must be a string (got 1) (from ${file})`,
    ]);
  });

  test("empty routes, an empty pattern and a bad Docker host", async () => {
    const lines = await problems({ env: { DOCKERNET_WARP_ROUTES: " , ", DOCKERNET_WARP_CONTAINER_PATTERN: "", DOCKER_HOST: "docker.example:2375" } });
    expect(lines).toEqual([
      'docker.host: "docker.example:2375" is not a Docker host URL (unix://, tcp://, ssh://, http(s)://) (from env DOCKER_HOST)',
      'warp.container_pattern: "" is not a glob of container-name characters, * and ? (from env DOCKERNET_WARP_CONTAINER_PATTERN)',
      "warp.routes: must not be empty (from env DOCKERNET_WARP_ROUTES)",
    ]);
  });

  test("a 10 kB env value gives a short message", async () => {
    const lines = await problems({ env: { DOCKERNET_WARP_ROUTES: `10.0.0.0/8${"x".repeat(10_240)}` } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("warp.routes[0]:");
    expect(lines[0]).toContain("is too long (10250 characters, at most 256)");
    expect(lines[0]?.length).toBeLessThan(250);
  });

  test("a broken TOML array in env", async () => {
    const lines = await problems({ env: { DOCKERNET_JOIN_DRIVERS: '["bridge"' } });
    expect(lines[0]).toStartWith('join.drivers: "[\\"bridge\\"" is not a TOML array');
    expect(lines[0]).toEndWith("(from env DOCKERNET_JOIN_DRIVERS)");
  });
});

describe("TOML syntax errors", () => {
  test("name the file, line and column", async () => {
    const file = tomlFile('[log]\nlevel = "info"\nformat = pretty\n');
    const lines = await problems({ file });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${file.replaceAll(".", "\\.")}:3:\\d+: invalid TOML: `));
  });

  test("are reported together with env problems", async () => {
    const file = tomlFile("[log\n");
    const lines = await problems({ file, env: { DOCKERNET_NOPE_X: "1" } });
    expect(lines).toHaveLength(2);
    expect(lines.some((line) => line.startsWith(`${file}:1:`))).toBe(true);
  });
});
