import { describe, expect, test } from "bun:test";
import { runCommand } from "citty";
import { modeCommand } from "../../src/cli/mode.ts";
import { DockernetError } from "../../src/core/errors.ts";
import { findMode } from "../../src/modes/registry.ts";
import type { ReconcilerDefinition } from "../../src/modes/types.ts";

/** warp with an action of its own, as `dockernet warp runtime install` will be: a reconciler may declare actions. */
function warpWithAction(seen: unknown[]): ReconcilerDefinition<string, any> {
  const warp = findMode("warp");
  if (warp?.kind !== "reconciler") throw new Error("warp is not a registered reconciler");
  return {
    ...warp,
    actions: {
      hello: {
        summary: "say hello",
        examples: ["dockernet warp hello world"],
        docker: false,
        args: { who: { type: "positional", required: true, description: "whom to greet" } },
        run: async ({ args }) => {
          seen.push(args.who);
          return 0;
        },
      },
    },
  };
}

describe("a reconciler's command", () => {
  test("runs an action it declares as a subcommand, with the action's own args, and not the daemon", async () => {
    const seen: unknown[] = [];
    await runCommand(modeCommand(warpWithAction(seen)), { rawArgs: ["hello", "world", "--log-level", "silent"] });
    // Had the bare command run too, it would be serving the daemon now instead of resolving.
    expect(seen).toEqual(["world"]);
  });

  test("an unknown action is a usage error that lists the actions there are", async () => {
    const failed = await runCommand(modeCommand(warpWithAction([])), { rawArgs: ["nope"] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(DockernetError);
    expect(failed).toMatchObject({ code: "USAGE", exitCode: 2, message: 'unknown warp action "nope"', hint: "the actions are status, hello; see dockernet warp --help" });
  });

  test("a service's command has its daemon action and its actions, and no bare form", () => {
    const flow = findMode("flow");
    if (flow?.kind !== "service") throw new Error("flow is not a registered service");
    const command = modeCommand(flow);
    expect(Object.keys(command.subCommands as object)).toEqual(["serve", ...Object.keys(flow.actions ?? {})]);
    expect(command.run).toBeUndefined();
  });
});
