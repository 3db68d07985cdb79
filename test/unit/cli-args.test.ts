import { describe, expect, test } from "bun:test";
import { modeFlagValues } from "../../src/cli/_args.ts";
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
