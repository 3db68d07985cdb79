import { describe, expect, test } from "bun:test";
import { defineCommand, type ArgsDef, type CommandDef } from "citty";
import { commandPath } from "../../src/cli/_help.ts";

const call = defineCommand({ meta: { name: "call" }, args: { file: { type: "string" } } });
const flow = defineCommand({ meta: { name: "flow" }, subCommands: { call, serve: defineCommand({ meta: { name: "serve" } }) } });
// Lazy, as the root's are: resolved only on the way down.
const root = defineCommand({ meta: { name: "dockernet" }, subCommands: { flow: () => Promise.resolve(flow) } }) as CommandDef<ArgsDef>;

const names = async (rawArgs: string[]) => (await commandPath(root, rawArgs)).map((step) => step.name);

describe("commandPath: the command the words name, for help and hints", () => {
  test("down to the deepest command named, skipping flags and the values of string flags", async () => {
    expect(await names(["flow", "call", "--file", "spec.json", "list_containers"])).toEqual(["dockernet", "flow", "call"]);
    expect(await names(["flow", "--log-level", "debug"])).toEqual(["dockernet", "flow"]);
  });

  test("an unknown word stops the path where it is", async () => {
    expect(await names(["flow", "nope"])).toEqual(["dockernet", "flow"]);
    expect(await names(["nope", "call"])).toEqual(["dockernet"]);
    expect(await names([])).toEqual(["dockernet"]);
  });

  test("words after -- are not ours", async () => {
    expect(await names(["--", "flow"])).toEqual(["dockernet"]);
  });
});
