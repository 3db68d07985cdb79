/**
 * update_container's copy, all or nothing: the source tree is read and checked whole first (see
 * snapshotTree), sent beside the code directory under a hidden name, and only then swapped in
 * with two renames inside the container (the old tree kept aside until the new one is in place,
 * and put back if that fails). Files removed from the source are gone with the old tree.
 */
import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { Logger } from "../../../core/logger.ts";
import type { DockerClient } from "../../../docker/client.ts";
import { FlowError } from "../protocol/replies.ts";
import { snapshotTree } from "./_code-snapshot.ts";
import { writeTar } from "./_tar.ts";

export interface CodeUpdate {
  /** The real path of the source, checked to lie under a code root. */
  source: string;
  /** `flow.code_dir`. */
  codeDir: string;
  /** `flow.code_owner` as numbers. */
  owner: { uid: number; gid: number };
  log: Logger;
}

/** `uid:gid` as numbers. */
export function parseOwner(text: string): { uid: number; gid: number } {
  const [uid = 0, gid = 0] = text.split(":").map(Number);
  return { uid, gid };
}

/**
 * Replaces `codeDir` in the container with the tree at `source`. The container must run (the
 * swap is two `mv` in it, so its image needs `mv` and `rm`); the caller restarts it on success.
 * On failure the old tree is where it was and the new one is removed.
 */
export async function replaceCode(client: DockerClient, id: string, update: CodeUpdate): Promise<void> {
  const { codeDir, log } = update;
  const entries = await snapshotTree(update.source, (real) => real === update.source);
  const parent = posix.dirname(codeDir);
  const tag = randomBytes(6).toString("hex");
  const staging = posix.join(parent, `.${posix.basename(codeDir)}.dockernet-new-${tag}`);
  const aside = posix.join(parent, `.${posix.basename(codeDir)}.dockernet-old-${tag}`);
  const archive = writeTar([{ type: "directory", path: posix.basename(staging), mode: 0o755 }, ...entries.map((entry) => ({ ...entry, path: `${posix.basename(staging)}/${entry.path}` }))], update.owner);
  const run = async (command: string[]) => {
    const { exitCode, output } = await client.execIn(id, command);
    if (exitCode !== 0) throw new FlowError("docker_api_error", `update_container: \`${command.join(" ")}\` failed in the container (exit ${exitCode}): ${output.trim().slice(0, 200)}; the old code is in place`, { command: command[0], exit_code: exitCode });
  };
  await client.putArchive(id, archive, parent);
  let movedAside = false;
  try {
    if (await client.pathExists(id, codeDir)) {
      await run(["mv", codeDir, aside]);
      movedAside = true;
    }
    await run(["mv", staging, codeDir]);
  } catch (error) {
    if (movedAside) await run(["mv", aside, codeDir]).catch((undo: unknown) => log.error("cannot put the old code back", { container: id.slice(0, 12), error: undo }));
    await run(["rm", "-rf", staging]).catch(() => {});
    throw error;
  }
  if (movedAside) await run(["rm", "-rf", aside]).catch((error: unknown) => log.warn("cannot remove the old code", { container: id.slice(0, 12), error }));
}
