/**
 * Which host paths a client may name (`volumes`, `update_container`'s `code_path`): only under a
 * root the operator allowed, resolved through links, and for volumes only a root's direct child.
 * Real directories and links in a temporary directory; no Docker.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkRoots, overlappingRoots, underRoots } from "../../src/modes/flow/manager/paths.ts";
import { FlowError } from "../../src/modes/flow/protocol/replies.ts";

let dir = "";
let root = "";
let outside = "";

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "dnflow-paths-")));
  root = join(dir, "root");
  outside = join(dir, "outside");
  await mkdir(join(root, "app", "deeper"), { recursive: true });
  await mkdir(join(outside, "secret"), { recursive: true });
  await symlink(join(outside, "secret"), join(root, "escape"));
  await symlink(join(root, "app"), join(dir, "link-to-app"));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** The FlowError `promise` rejects with, as `{type, message, details}`. */
async function refusal(promise: Promise<unknown>): Promise<{ type: string; message: string; details: Record<string, unknown> }> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof FlowError)) throw new Error(`expected a FlowError, got ${String(error)}`);
  return { type: error.type, message: error.message, details: error.details };
}

describe("underRoots", () => {
  test("without roots every path is refused, naming the flag that allows some", async () => {
    expect(await refusal(underRoots(join(root, "app"), [], "code_path", "--code-root"))).toEqual({
      type: "forbidden",
      message: "code_path: host paths are refused: the server allows none (start it with --code-root DIR)",
      details: { field: "code_path" },
    });
  });

  test("a path under a root is its real path, through a link and `..` alike", async () => {
    expect(await underRoots(join(root, "app", "deeper"), [root], "code_path", "--code-root")).toBe(join(root, "app", "deeper"));
    expect(await underRoots(join(dir, "link-to-app"), [root], "code_path", "--code-root")).toBe(join(root, "app"));
    expect(await underRoots(join(root, "app", "..", "app"), [join(dir, "outside", "..", "root")], "code_path", "--code-root")).toBe(join(root, "app"));
  });

  test("a link inside a root that leads out is refused without saying where it leads", async () => {
    const refused = await refusal(underRoots(join(root, "escape"), [root], "code_path", "--code-root"));
    expect(refused).toEqual({ type: "forbidden", message: "code_path: the path is not under an allowed root (--code-root)", details: { field: "code_path" } });
    expect(refused.message).not.toContain("outside");
    expect(await refusal(underRoots(join(root, "..", "outside"), [root], "code_path", "--code-root"))).toMatchObject({ type: "forbidden" });
  });

  test("a missing path is not_found only inside a root: outside, whether it exists is not told", async () => {
    expect(await refusal(underRoots(join(root, "nothing"), [root], "volumes./x", "--volume-root"))).toEqual({
      type: "not_found",
      message: "volumes./x: no such path on the host",
      details: { field: "volumes./x" },
    });
    const missingOutside = await refusal(underRoots(join(outside, "nothing"), [root], "code_path", "--code-root"));
    const existingOutside = await refusal(underRoots(join(outside, "secret"), [root], "code_path", "--code-root"));
    expect(missingOutside).toEqual(existingOutside);
  });

  test("a volume is a root's direct child: not the root, not deeper", async () => {
    const options = { childOnly: true };
    expect(await underRoots(join(root, "app"), [root], "volumes./srv/app", "--volume-root", options)).toBe(join(root, "app"));
    const message = "volumes./srv/x: a volume must be a directory directly inside an allowed root (--volume-root), not the root itself or deeper";
    for (const path of [root, join(root, "app", "deeper")]) {
      expect(await refusal(underRoots(path, [root], "volumes./srv/x", "--volume-root", options))).toEqual({ type: "forbidden", message, details: { field: "volumes./srv/x" } });
    }
    expect(await refusal(underRoots(join(outside, "secret"), [root], "volumes./srv/x", "--volume-root", options))).toMatchObject({ type: "forbidden", message: "volumes./srv/x: the path is not under an allowed root (--volume-root)" });
  });
});

describe("volume roots and code roots", () => {
  test("overlap when one holds the other, or they are the same", () => {
    expect(overlappingRoots(["/srv/flow"], ["/srv/code"])).toBeUndefined();
    expect(overlappingRoots(["/srv/flow"], ["/srv/flow/code"])).toEqual(["/srv/flow", "/srv/flow/code"]);
    expect(overlappingRoots(["/srv/a/../flow/"], ["/srv"])).toEqual(["/srv/flow", "/srv"]);
    expect(overlappingRoots(["/srv/flow"], ["/srv/flowers"])).toBeUndefined();
  });

  test("overlapping roots refuse the start as a usage error (exit code 2)", () => {
    expect(() => checkRoots(["/srv/flow"], ["/srv/flow"])).toThrow(expect.objectContaining({ code: "FLOW_ROOTS", exitCode: 2, message: "the volume root /srv/flow and the code root /srv/flow overlap" }));
    expect(() => checkRoots([], ["/srv/flow"])).not.toThrow();
  });
});
