import { describe, expect, test } from "bun:test";
import { checkEntry, describeChange, parseDaemonJson, renderDaemonJson, withoutRuntime, withRuntime } from "../../src/modes/warp/runtime/daemon-json.ts";

const entry = { path: "/usr/local/bin/dockernet", runtimeArgs: ["warp", "runtime", "oci", "--runc", "/usr/sbin/runc", "--"] };
const existing = { "log-level": "warn", "default-runtime": "runc", runtimes: { nvidia: { path: "nvidia-container-runtime" } }, "live-restore": true };

describe("withRuntime / withoutRuntime", () => {
  test("install adds the entry and keeps every other key; uninstall gives the same file back", () => {
    const installed = withRuntime(existing, entry, { makeDefault: false });
    expect(installed).toEqual({ ...existing, runtimes: { nvidia: { path: "nvidia-container-runtime" }, dockernet: entry } });
    expect(withoutRuntime(installed)).toEqual(existing);
  });

  test("--default makes it the default-runtime; uninstall takes that out too (Docker's default is runc)", () => {
    const installed = withRuntime({}, entry, { makeDefault: true });
    expect(installed).toEqual({ runtimes: { dockernet: entry }, "default-runtime": "dockernet" });
    expect(withoutRuntime(installed)).toEqual({});
  });

  test("--default never replaces another default runtime (its containers would lose it); runc's or ours is fine", () => {
    expect(() => withRuntime({ "default-runtime": "nvidia" }, entry, { makeDefault: true })).toThrow(/default-runtime is "nvidia": --default would replace it/);
    expect(withRuntime({ "default-runtime": "nvidia" }, entry, { makeDefault: false })["default-runtime"]).toBe("nvidia");
    expect(withRuntime({ "default-runtime": "runc" }, entry, { makeDefault: true })["default-runtime"]).toBe("dockernet");
    expect(withRuntime({ "default-runtime": "dockernet" }, entry, { makeDefault: true })["default-runtime"]).toBe("dockernet");
  });

  test("a second install replaces the entry (a new path or runc); uninstall of nothing changes nothing", () => {
    const again = withRuntime(withRuntime({}, entry, { makeDefault: false }), { ...entry, path: "/opt/dockernet" }, { makeDefault: false });
    expect(again).toEqual({ runtimes: { dockernet: { ...entry, path: "/opt/dockernet" } } });
    expect(describeChange(existing, withoutRuntime(existing))).toEqual([]);
  });

  test("words Docker's wrapper script would split or interpret are refused", () => {
    expect(() => checkEntry({ path: "/opt/my tools/dockernet", runtimeArgs: [] })).toThrow(/cannot put "\/opt\/my tools\/dockernet"/);
    expect(() => checkEntry({ ...entry, runtimeArgs: ["--config", "/etc/x;rm -rf /"] })).toThrow(/cannot put/);
    expect(() => checkEntry({ ...entry, runtimeArgs: [...entry.runtimeArgs, "--docker-host", "unix:///run/docker.sock"] })).not.toThrow();
  });
});

describe("parseDaemonJson", () => {
  test("a missing or empty file is {}; broken JSON and a non-object are usage errors naming the file", () => {
    expect(parseDaemonJson(undefined, "/etc/docker/daemon.json")).toEqual({});
    expect(parseDaemonJson("  \n", "/etc/docker/daemon.json")).toEqual({});
    expect(() => parseDaemonJson("{", "/etc/docker/daemon.json")).toThrow(/\/etc\/docker\/daemon.json is not valid JSON/);
    expect(() => parseDaemonJson("[]", "d.json")).toThrow(/d.json is not a JSON object/);
    expect(() => parseDaemonJson('{"runtimes": []}', "d.json")).toThrow(/"runtimes" is not an object/);
  });
});

describe("describeChange and renderDaemonJson", () => {
  test("one line per changed key, for --dry-run; the text ends with a newline", () => {
    expect(describeChange({ runtimes: {} }, withRuntime({ runtimes: {} }, entry, { makeDefault: true }))).toEqual([
      `runtimes: {} -> {"dockernet":${JSON.stringify(entry)}}`,
      'default-runtime: (absent) -> "dockernet"',
    ]);
    expect(renderDaemonJson({ a: 1 })).toBe('{\n  "a": 1\n}\n');
  });
});
