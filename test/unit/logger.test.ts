/** The logger's lines as an operator greps them: every line kept, the level applied to every tag. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { configureLogging, createLogger, wantsColors } from "../../src/core/logger.ts";

let lines: Record<string, unknown>[] = [];
const write = process.stderr.write.bind(process.stderr);

beforeEach(() => {
  lines = [];
  process.stderr.write = ((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  }) as typeof process.stderr.write;
});

afterEach(() => {
  process.stderr.write = write;
  configureLogging({ level: "info", format: "pretty" });
});

describe("logger", () => {
  test("the same line ten times in a row is written ten times (an audit log folds nothing)", () => {
    configureLogging({ level: "info", format: "json" });
    const log = createLogger("warp");
    for (let i = 0; i < 10; i++) log.info("route changed", { container: "web-1", command: "ip route replace default via 10.0.0.2" });
    expect(lines).toHaveLength(10);
    expect(lines.every((line) => line.msg === "route changed" && line.tag === "warp" && line.container === "web-1")).toBe(true);
  });

  test("lines below the level are not written; a later configureLogging reaches a logger already used", () => {
    configureLogging({ level: "info", format: "json" });
    const log = createLogger("flow");
    log.debug("hidden");
    log.info("shown");
    configureLogging({ level: "trace", format: "json" });
    log.trace("now shown", { id: 1 });
    log.withTag("docker").debug("another tag");
    configureLogging({ level: "warn", format: "json" });
    log.info("hidden again");
    log.warn("a warning");
    expect(lines.map((line) => `${line.level} ${line.tag} ${line.msg}`)).toEqual(["info flow shown", "trace flow now shown", "debug docker another tag", "warn flow a warning"]);
  });
});

describe("colours", () => {
  const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  test("a terminal gets them, a pipe not; NO_COLOR set to anything turns them off, FORCE_COLOR (not 0) on", () => {
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    expect(wantsColors({ isTTY: true })).toBe(true);
    expect(wantsColors({ isTTY: false })).toBe(false);
    expect(wantsColors({})).toBe(false);
    process.env.NO_COLOR = "true";
    expect(wantsColors({ isTTY: true })).toBe(false);
    process.env.NO_COLOR = "";
    expect(wantsColors({ isTTY: true })).toBe(true); // an empty NO_COLOR is unset (no-color.org)
    process.env.FORCE_COLOR = "1";
    expect(wantsColors({ isTTY: false })).toBe(true);
    process.env.FORCE_COLOR = "0";
    expect(wantsColors({ isTTY: false })).toBe(false);
  });
});
