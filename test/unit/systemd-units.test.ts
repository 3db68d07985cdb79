import { describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockernetError } from "../../src/core/errors.ts";
import { applyPlan, observeUnitDir, planInstall, planUninstall, type UnitDirState } from "../../src/service/install.ts";
import { execWord, systemdTimeSpan } from "../../src/service/syntax.ts";
import { findMode, modes } from "../../src/modes/registry.ts";
import { modesOfUnitFile, parseServiceModes, serviceModes, type ServiceMode, unitName } from "../../src/service/modes.ts";
import { renderUnits, type UnitOptions } from "../../src/service/units.ts";

const binary = "/usr/local/bin/dockernet";
const offered = serviceModes(modes);
/** The registry's descriptions of these modes, which units are made from. */
const described = (names: ServiceMode[]) => names.map((name) => findMode(name) ?? expect.unreachable(`no mode ${name}`));

/** The one unit file of the daemon form, or the files of the timer form, by name. */
function render(names: ServiceMode[], options: Partial<UnitOptions> = {}): Record<string, string> {
  return Object.fromEntries(renderUnits(described(names), { binary, ...options }).map((unit) => [unit.name, unit.text]));
}

/** `Key=value` lines of a unit, comments left out. */
function settings(text: string | undefined): string[] {
  return (text ?? "").split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

function usageFailure(run: () => unknown): DockernetError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DockernetError);
    expect((error as DockernetError).exitCode).toBe(2);
    return error as DockernetError;
  }
  throw new Error("expected a usage error");
}

const sandbox = [
  "NoNewPrivileges=yes",
  "ProtectSystem=strict",
  "ProtectHome=yes",
  "PrivateTmp=yes",
  "ProtectKernelTunables=yes",
  "ProtectKernelModules=yes",
  "ProtectKernelLogs=yes",
  "ProtectControlGroups=yes",
];

describe("mode names", () => {
  test("one or several modes, each once, in canonical order; `run` may lead", () => {
    expect(parseServiceModes(["warp"], modes)).toEqual(["warp"]);
    expect(parseServiceModes(["join", "warp"], modes)).toEqual(["warp", "join"]);
    expect(parseServiceModes(["run", "join", "warp"], modes)).toEqual(["warp", "join"]);
    expect(unitName(["warp", "join"])).toBe("dockernet-warp-join");
  });

  test("an unknown, repeated or missing mode is a usage error naming it", () => {
    expect(usageFailure(() => parseServiceModes(["wrap"], modes)).message).toBe('unknown mode "wrap"');
    expect(usageFailure(() => parseServiceModes(["wrap"], modes)).hint).toBe("the modes are warp, join, flow");
    expect(usageFailure(() => parseServiceModes(["warp", "warp"], modes)).message).toBe("mode warp given twice");
    expect(usageFailure(() => parseServiceModes([], modes)).message).toBe("no mode given");
    expect(usageFailure(() => parseServiceModes(["run"], modes)).message).toBe("run needs at least one mode");
  });

  test("unit file names map back to their modes; other names do not", () => {
    expect(modesOfUnitFile("dockernet-warp.service", offered)).toEqual(["warp"]);
    expect(modesOfUnitFile("dockernet-warp-join.timer", offered)).toEqual(["warp", "join"]);
    for (const name of ["dockernet-bridge.service", "dockernet-warp.socket", "docker.service", "dockernet-warp-warp.service", "dockernet-.service"]) {
      expect(modesOfUnitFile(name, offered)).toBeUndefined();
    }
  });
});

describe("the daemon form", () => {
  test("warp: after and requiring Docker, restarted on failure, with exactly the capabilities it needs", () => {
    const units = render(["warp"]);
    expect(Object.keys(units)).toEqual(["dockernet-warp.service"]);
    const text = units["dockernet-warp.service"] ?? "";
    expect(text.split("\n")[0]).toBe("# Installed by `dockernet service install warp`; remove with `dockernet service uninstall warp`.");
    expect(settings(text)).toEqual([
      "[Unit]",
      "Description=dockernet warp: route target containers through their warp container",
      "Documentation=https://github.com/dockernet/dockernet#run-as-a-service",
      "After=docker.service",
      "Requires=docker.service",
      "[Service]",
      "ExecStart=/usr/local/bin/dockernet warp",
      "Restart=on-failure",
      "RestartSec=5s",
      "RestartPreventExitStatus=2",
      "Environment=BUN_JSC_useDFGJIT=0",
      "CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE",
      ...sandbox,
      "[Install]",
      "WantedBy=multi-user.target docker.service",
    ]);
    expect(text).not.toContain("AmbientCapabilities"); // it runs as root: the bounding set is what limits it
    expect(text).not.toContain("User=");
    expect(text.endsWith("\n")).toBe(true);
  });

  test("join gets no capability at all; the config is passed on", () => {
    const text = render(["join"], { config: "/etc/dockernet/join.toml" })["dockernet-join.service"];
    expect(settings(text)).toContain("CapabilityBoundingSet=");
    expect(settings(text)).toContain("ExecStart=/usr/local/bin/dockernet join --config /etc/dockernet/join.toml");
    expect(settings(text)).toEqual(expect.arrayContaining(sandbox));
  });

  test("several modes: one unit running `dockernet run`, with the union of their capabilities", () => {
    const units = render(["warp", "join"]);
    expect(Object.keys(units)).toEqual(["dockernet-warp-join.service"]);
    const lines = settings(units["dockernet-warp-join.service"]);
    expect(lines).toContain("ExecStart=/usr/local/bin/dockernet run warp join");
    expect(lines).toContain("Description=dockernet run warp join: warp and join on one Docker events stream");
    expect(lines).toContain("CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE");
  });
});

describe("the timer form", () => {
  test("a oneshot `--once` service and a monotonic timer, every interval after the last start", () => {
    const units = render(["join"], { timerMs: 5 * 60_000 });
    expect(Object.keys(units)).toEqual(["dockernet-join.service", "dockernet-join.timer"]);
    const service = settings(units["dockernet-join.service"]);
    expect(service).toEqual(expect.arrayContaining(["Type=oneshot", "ExecStart=/usr/local/bin/dockernet join --once", "TimeoutStartSec=10min", "CapabilityBoundingSet=", ...sandbox]));
    // Started by the timer: no [Install], no Restart= (the next tick is the retry), no daemon memory tuning.
    expect(service.join("\n")).not.toMatch(/\[Install\]|Restart=|BUN_JSC/);
    expect(settings(units["dockernet-join.timer"])).toEqual([
      "[Unit]",
      "Description=dockernet join --once every 5min",
      "Documentation=https://github.com/dockernet/dockernet#run-as-a-service",
      "[Timer]",
      "OnBootSec=1min",
      "OnUnitActiveSec=5min",
      "AccuracySec=1s",
      "[Install]",
      "WantedBy=timers.target",
    ]);
    expect(units["dockernet-join.timer"]?.split("\n")[0]).toBe("# Installed by `dockernet service install join --timer 5min`; remove with `dockernet service uninstall join`.");
  });

  test("intervals render as systemd time spans; too short is a usage error", () => {
    expect(settings(render(["warp"], { timerMs: 90_000 })["dockernet-warp.timer"])).toContain("OnUnitActiveSec=90s");
    expect(settings(render(["warp"], { timerMs: 2 * 3_600_000 })["dockernet-warp.timer"])).toContain("OnUnitActiveSec=2h");
    expect(usageFailure(() => render(["warp"], { timerMs: 5000 })).message).toBe("--timer 5s is too short (at least 10s)");
    expect([systemdTimeSpan(60_000), systemdTimeSpan(1500), systemdTimeSpan(7_200_000)]).toEqual(["1min", "1500ms", "2h"]);
  });

  test("several modes with a timer are refused: `dockernet run` has no --once", () => {
    const error = usageFailure(() => render(["warp", "join"], { timerMs: 300_000 }));
    expect(error.message).toContain("--timer takes one mode");
    expect(error.hint).toBe("install one timer per mode: dockernet service install warp --timer 5min; dockernet service install join --timer 5min");
  });

  test("a service mode has no timer form: only a reconciler has --once", () => {
    const error = usageFailure(() => render(["flow"], { timerMs: 300_000 }));
    expect(error.message).toBe("--timer: flow has no --once form");
    expect(error.hint).toBe("install it as a daemon: leave out --timer");
    expect(settings(render(["flow"])["dockernet-flow.service"])).toContain(`ExecStart=${binary} flow serve`);
  });
});

describe("paths in units", () => {
  test("spaces, quotes and backslashes are quoted; % and $ are doubled so systemd expands nothing", () => {
    const lines = settings(render(["warp"], { binary: "/opt/dockernet 1/dockernet", config: '/etc/dockernet/a "b"\\c %n $HOME.toml' })["dockernet-warp.service"]);
    expect(lines).toContain('ExecStart="/opt/dockernet 1/dockernet" warp --config "/etc/dockernet/a \\"b\\"\\\\c %%n $$HOME.toml"');
    expect(execWord("/usr/bin/a%b$c")).toBe("/usr/bin/a%%b$$c");
    expect(execWord("/opt/it's")).toBe(`"/opt/it's"`);
  });

  test("a newline, a relative path or a path under /tmp is refused", () => {
    expect(usageFailure(() => render(["warp"], { binary: "/opt/a\nb" })).message).toContain("cannot be written into a systemd unit");
    expect(usageFailure(() => render(["warp"], { binary: "dist/dockernet" })).message).toBe('--binary "dist/dockernet" is not an absolute path');
    const tmp = usageFailure(() => render(["warp"], { config: "/tmp/config.toml" }));
    expect(tmp.message).toContain("PrivateTmp=yes");
    expect(tmp.hint).toBe("put the config under /etc/dockernet/");
    expect(usageFailure(() => render(["warp"], { binary: "/var/tmp/dockernet" })).message).toContain("under /tmp");
  });

  test("a binary under a home directory gets ProtectHome=read-only, so the service can still run it", () => {
    const lines = settings(render(["warp"], { binary: "/root/.local/bin/dockernet" })["dockernet-warp.service"]);
    expect(lines).toContain("ProtectHome=read-only");
    expect(lines).not.toContain("ProtectHome=yes");
  });
});

describe("install and uninstall plans", () => {
  const dir = "/etc/systemd/system";
  const state = (files: Record<string, string> = {}, options: { offline?: string; links?: string[] } = {}): UnitDirState => ({
    dir,
    exists: true,
    files: new Map(Object.entries(files)),
    links: options.links ?? [],
    offline: options.offline,
  });
  const daemon = renderUnits(described(["warp"]), { binary });
  const timer = renderUnits(described(["warp"]), { binary, timerMs: 300_000 });
  const texts = (units: typeof daemon) => Object.fromEntries(units.map((unit) => [unit.name, unit.text]));

  test("a fresh install writes the unit, reloads systemd and says how to start it", () => {
    const plan = planInstall(state(), ["warp"], daemon);
    expect(plan.steps.map((step) => (step.kind === "systemctl" ? `systemctl ${step.args.join(" ")}` : `${step.kind} ${step.path}`))).toEqual([
      `write ${dir}/dockernet-warp.service`,
      "systemctl daemon-reload",
    ]);
    expect(plan.next).toEqual(["systemctl enable --now dockernet-warp.service"]);
  });

  test("where systemctl does not apply, only files change and the commands are printed", () => {
    const plan = planInstall(state({}, { offline: "systemd is not running here" }), ["warp"], timer);
    expect(plan.steps.map((step) => step.kind)).toEqual(["write", "write"]);
    expect(plan.notes).toEqual(["systemctl not run: systemd is not running here"]);
    expect(plan.next).toEqual(["systemctl daemon-reload", "systemctl enable --now dockernet-warp.timer"]);
  });

  test("installing the same again changes nothing; a changed daemon is to be restarted", () => {
    expect(planInstall(state(texts(daemon)), ["warp"], daemon).steps).toEqual([]);
    const moved = renderUnits(described(["warp"]), { binary: "/opt/dockernet/dockernet" });
    const plan = planInstall(state(texts(daemon)), ["warp"], moved);
    expect(plan.steps.map((step) => step.kind)).toEqual(["write", "systemctl"]);
    expect(plan.next[1]).toStartWith("systemctl restart dockernet-warp.service");
  });

  test("switching from the timer to the daemon stops the timer and removes it", () => {
    const plan = planInstall(state(texts(timer)), ["warp"], daemon);
    expect(plan.steps).toEqual([
      { kind: "systemctl", args: ["disable", "--now", "dockernet-warp.timer", "dockernet-warp.service"] },
      { kind: "remove", path: `${dir}/dockernet-warp.timer` },
      { kind: "write", path: `${dir}/dockernet-warp.service`, text: daemon[0]?.text ?? "" },
      { kind: "systemctl", args: ["daemon-reload"] },
    ]);
    // Offline, its enablement links go with it.
    const offline = planInstall(state(texts(timer), { offline: "x", links: [`${dir}/timers.target.wants/dockernet-warp.timer`] }), ["warp"], daemon);
    expect(offline.steps.slice(0, 2)).toEqual([
      { kind: "remove", path: `${dir}/timers.target.wants/dockernet-warp.timer` },
      { kind: "remove", path: `${dir}/dockernet-warp.timer` },
    ]);
  });

  test("refuses a second unit running the same mode, and files it did not write", () => {
    const both = texts(renderUnits(described(["warp", "join"]), { binary }));
    expect(() => planInstall(state(both), ["warp"], daemon)).toThrow("dockernet-warp-join.service already runs warp");
    expect(() => planInstall(state({ "dockernet-warp.service": "[Service]\nExecStart=/bin/true\n" }), ["warp"], daemon)).toThrow("was not written by dockernet service install");
    // A unit of another mode is no conflict.
    expect(planInstall(state(texts(renderUnits(described(["join"]), { binary }))), ["warp"], daemon).steps).toHaveLength(2);
  });

  test("uninstall stops and disables, then removes both files; nothing there is no error", () => {
    const plan = planUninstall(state(texts(timer)), ["warp"]);
    expect(plan.steps).toEqual([
      { kind: "systemctl", args: ["disable", "--now", "dockernet-warp.timer", "dockernet-warp.service"] },
      { kind: "remove", path: `${dir}/dockernet-warp.timer` },
      { kind: "remove", path: `${dir}/dockernet-warp.service` },
      { kind: "systemctl", args: ["daemon-reload"] },
    ]);
    expect(planUninstall(state(), ["warp"])).toEqual({ steps: [], next: [], notes: [`nothing to remove: no dockernet-warp.service or dockernet-warp.timer in ${dir}`] });
    expect(() => planUninstall(state({ "dockernet-join.service": "# mine\n" }), ["join"])).toThrow("was not written by dockernet service install");
  });

  test("applied where systemctl applies: systemctl, file changes and reload in order, reported as done", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dockernet-units-"));
    try {
      await writeFile(join(dir, "dockernet-warp.timer"), timer[1]?.text ?? "");
      await writeFile(join(dir, "dockernet-warp.service"), timer[0]?.text ?? "");
      await mkdir(join(dir, "timers.target.wants"));
      await symlink(join(dir, "dockernet-warp.timer"), join(dir, "timers.target.wants", "dockernet-warp.timer"));
      const observed = await observeUnitDir(dir, offered);
      expect(observed).toMatchObject({ exists: true, links: [join(dir, "timers.target.wants", "dockernet-warp.timer")], offline: "--unit-dir is not /etc/systemd/system" });
      expect([...observed.files.keys()].sort()).toEqual(["dockernet-warp.service", "dockernet-warp.timer"]);
      // As if this were /etc/systemd/system on a machine running systemd.
      const calls: string[] = [];
      const done: string[] = [];
      await applyPlan(planInstall({ ...observed, offline: undefined }, ["warp"], daemon), {
        systemctl: async (args) => void calls.push(args.join(" ")),
        report: (line) => done.push(line),
      });
      expect(calls).toEqual(["disable --now dockernet-warp.timer dockernet-warp.service", "daemon-reload"]);
      expect(done).toEqual([
        "ran systemctl disable --now dockernet-warp.timer dockernet-warp.service",
        `removed ${dir}/dockernet-warp.timer`,
        `wrote ${dir}/dockernet-warp.service`,
        "ran systemctl daemon-reload",
      ]);
      expect(await readdir(dir)).toEqual(expect.arrayContaining(["dockernet-warp.service"]));
      expect((await stat(join(dir, "dockernet-warp.service"))).mode & 0o777).toBe(0o644);
      // A failing systemctl stops the plan there: nothing is removed behind a unit still running.
      const failing = planUninstall({ ...(await observeUnitDir(dir, offered)), offline: undefined }, ["warp"]);
      await expect(applyPlan(failing, { systemctl: () => Promise.reject(new Error("Access denied")), report: () => {} })).rejects.toThrow("Access denied");
      expect(await readdir(dir)).toContain("dockernet-warp.service");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
