/**
 * "A mode is one folder and one registry line", checked by doing it: a copy of src/ gains
 * src/modes/echo/ and one line in registry.ts, nothing else, and then type-checks, has its
 * command with flags and examples, its config section and env, its systemd unit, a place in
 * `dockernet run`, and runs `--once` and as a daemon on the shared events stream of a real engine.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec } from "../support/_exec.ts";
import { Daemon, repoRoot, waitFor } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";

setDefaultTimeout(120_000);

const work = join(repoRoot, ".tmp/add-mode");
const bun = join(repoRoot, "node_modules/.bin/bun");
const main = join(work, "src/main.ts");

const configTs = `import * as v from "valibot";
import { string } from "../../config/schema.ts";
import { section } from "../../config/spec.ts";

/** The [echo] section. */
export const echoSection = section(v.strictObject({ greeting: string() }), { greeting: "hello" });
export type EchoConfig = v.InferOutput<typeof echoSection.schema>;
`;

const modeTs = `import { defineMode } from "../types.ts";
import { echoSection } from "./config.ts";

export const echoMode = defineMode({
  name: "echo",
  kind: "reconciler",
  summary: "log each container start with a greeting",
  examples: ["dockernet echo --greeting hi   # log every start"],
  config: echoSection,
  flags: { greeting: { key: "greeting", type: "string", description: "What to say", valueHint: "TEXT" } },
  capabilities: { names: [], why: "only reads the events stream." },
  daemon: async (context) => (await import("./index.ts")).startEcho(context),
  once: async (context) => (await import("./index.ts")).echoOnce(context),
});
`;

const indexTs = `import type { DaemonContext, ModeContext, OnceResult, RunningMode } from "../types.ts";
import type { EchoConfig } from "./config.ts";

export async function startEcho(context: DaemonContext<EchoConfig>): Promise<RunningMode> {
  const unsubscribe = await context.watch({
    name: "echo",
    interest: { types: ["container"], actions: ["start"] },
    onEvent: (event) => context.log.info(\`\${context.config.greeting} \${event.name}\`),
  });
  context.log.info("echo started");
  return { stop: async () => unsubscribe(), health: () => undefined };
}

export async function echoOnce(context: ModeContext<EchoConfig>): Promise<OnceResult> {
  const running = await context.client.listContainers();
  return { exitCode: 0, failures: [], summary: { greeting: context.config.greeting, running: running.length } };
}
`;

beforeAll(async () => {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await cp(join(repoRoot, "src"), join(work, "src"), { recursive: true });
  await mkdir(join(work, "src/modes/echo"));
  await writeFile(join(work, "src/modes/echo/config.ts"), configTs);
  await writeFile(join(work, "src/modes/echo/mode.ts"), modeTs);
  await writeFile(join(work, "src/modes/echo/index.ts"), indexTs);
  // The one line (and its import): the registry's list gains the mode.
  const registry = join(work, "src/modes/registry.ts");
  const text = await readFile(registry, "utf8");
  const added = text
    .replace(/^(export const modes = \[.*)\] as const;$/m, "$1, echoMode] as const;")
    .replace(/^(import type \{ AnyMode \} .*)$/m, '$1\nimport { echoMode } from "./echo/mode.ts";');
  expect(added).not.toBe(text);
  await writeFile(registry, added);
  await writeFile(join(work, "tsconfig.json"), JSON.stringify({ extends: "../../tsconfig.json", include: ["src"] }));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string> = {}) =>
  exec(bun, [main, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, allowFail: true });

describe("a mode added as one folder and one registry line", () => {
  test("type-checks: its config type is inferred from its schema", async () => {
    const tsc = await exec(join(repoRoot, "node_modules/.bin/tsc"), ["--noEmit", "-p", work], { allowFail: true, timeoutMs: 300_000 });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.code).toBe(0);
  });

  test("is a command with its flags and examples, and listed in the root help and in run", async () => {
    expect((await run(["--help"])).stdout).toContain("log each container start with a greeting");
    const help = await run(["echo", "--help"]);
    expect(help.stdout).toContain("--greeting");
    expect(help.stdout).toContain("dockernet echo --greeting hi");
    expect((await run(["run", "--help"])).stdout).toMatch(/one or more of: [a-z, ]*echo/);
  });

  test("has its config section, env variables and flag, with their sources", async () => {
    const shown = await run(["config", "validate"], { DOCKERNET_ECHO_GREETING: "ahoy" });
    expect(shown.stdout).toContain('[echo]\ngreeting = "ahoy"  # env DOCKERNET_ECHO_GREETING');
    const bad = await run(["config", "validate"], { DOCKERNET_ECHO_LOUDNESS: "11" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("echo.loudness: unknown key");
  });

  test("has a systemd unit, alone or beside others, with the capabilities it declares", async () => {
    const unit = await run(["service", "install", "warp", "echo", "--dry-run", "--binary", "/usr/local/bin/dockernet", "--unit-dir", join(work, "units")]);
    expect(unit.stdout).toContain("ExecStart=/usr/local/bin/dockernet run warp echo");
    expect(unit.stdout).toContain("# echo: only reads the events stream.");
    expect(unit.code).toBe(0);
  });

  describe("against a real engine", () => {
    const engine = useTestEngine({ name: "dntest-addmode", subnet: 112 });

    test("runs --once, and as a daemon beside warp on one events stream", async () => {
      await engine.run("early");
      const once = await run(["echo", "--once", "--greeting", "hi"], { DOCKER_HOST: engine.host });
      expect(once.stderr).toContain("reconciled once");
      expect(once.stderr).toContain("greeting=hi");
      expect(once.code).toBe(0);

      await using daemon = await Daemon.start(engine, ["run", "warp", "echo", "--greeting", "welcome"], { command: [bun, [main]], ready: "echo started" });
      expect(daemon.find((line) => line.msg === "warp started")).toHaveLength(1);
      await engine.run("late");
      await waitFor("the greeting for the new container", () => daemon.find((line) => line.tag === "echo" && line.msg === "welcome late").length > 0);
    });
  });
});
