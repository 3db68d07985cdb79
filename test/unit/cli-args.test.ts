import { describe, expect, test } from "bun:test";
import { globalArgsFor, modeArgs, modeFlagValues } from "../../src/cli/_args.ts";
import { findMode } from "../../src/modes/registry.ts";

describe("modeFlagValues", () => {
  const flow = findMode("flow");
  if (flow === undefined) throw new Error("the flow mode is not registered");

  test("a flag given several times sets its list key to every value", () => {
    const rawArgs = ["serve", "--volume-root", "/srv/a", "--volume-root=/srv/b", "--listen", "127.0.0.1:1", "--", "--volume-root", "/not-a-flag"];
    expect(modeFlagValues(flow, { "volume-root": "/srv/b", listen: "127.0.0.1:1" }, rawArgs)).toEqual({ flow: { volume_roots: "/srv/a,/srv/b", listen: "127.0.0.1:1" } });
  });

  test("a flag given once, or not at all", () => {
    expect(modeFlagValues(flow, { "code-root": "/srv/code" }, ["--code-root", "/srv/code"])).toEqual({ flow: { code_roots: "/srv/code" } });
    expect(modeFlagValues(flow, {}, [])).toEqual({ flow: {} });
  });
});

describe("modeArgs of one subcommand", () => {
  const flow = findMode("flow");
  if (flow === undefined) throw new Error("the flow mode is not registered");

  test("each flow subcommand gets only the flags it reads; without a subcommand, all of them", () => {
    expect(Object.keys(modeArgs(flow, "serve")).sort()).toEqual(["code-root", "listen", "socket-dir", "token-file", "volume-root"]);
    expect(Object.keys(modeArgs(flow, "call")).sort()).toEqual(["listen", "token-file", "url"]);
    expect(Object.keys(modeArgs(flow, "watch")).sort()).toEqual(["listen", "token-file", "url"]);
    expect(Object.keys(modeArgs(flow, "agent"))).toEqual([]);
    expect(Object.keys(modeArgs(flow)).length).toBe(Object.keys(flow.flags).length);
  });

  test("a command that talks to no engine has no --docker-host", () => {
    expect(Object.keys(globalArgsFor({ docker: false }))).not.toContain("docker-host");
    expect(Object.keys(globalArgsFor({ docker: true }))).toContain("docker-host");
  });
});
