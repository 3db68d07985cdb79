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
import { type TarEntry, writeTar } from "./_tar.ts";

/**
 * The tree at `source` (its real path, checked to lie under a code root), read whole and checked
 * before the container is touched: a refused tree neither starts a stopped container nor sends
 * anything.
 */
export async function readCode(source: string): Promise<TarEntry[]> {
  return await snapshotTree(source, (real) => real === source);
}

export interface CodeUpdate {
  /** The tree to send, from {@link readCode}. */
  entries: readonly TarEntry[];
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
 * Replaces `codeDir` in the container with `entries`. The container must run (the swap is two
 * `mv` in it, so its image needs `mv` and `rm`); the caller restarts it on success. On failure
 * the old tree is where it was and the new one is removed; an image without `rm` fails before
 * anything is sent.
 */
export async function replaceCode(client: DockerClient, id: string, update: CodeUpdate): Promise<void> {
  const { codeDir, log, entries } = update;
  const parent = posix.dirname(codeDir);
  const tag = randomBytes(6).toString("hex");
  const staging = posix.join(parent, `.${posix.basename(codeDir)}.dockernet-new-${tag}`);
  const aside = posix.join(parent, `.${posix.basename(codeDir)}.dockernet-old-${tag}`);
  const archive = writeTar([{ type: "directory", path: posix.basename(staging), mode: 0o755 }, ...entries.map((entry) => ({ ...entry, path: `${posix.basename(staging)}/${entry.path}` }))], update.owner);
  const run = async (command: string[]) => {
    const { exitCode, output } = await client.execIn(id, command);
    if (exitCode !== 0) throw new FlowError("docker_api_error", `update_container: \`${command.join(" ")}\` failed in the container (exit ${exitCode}): ${output.trim().slice(0, 200)}; the old code is in place`, { command: command[0], exit_code: exitCode });
  };
  // `rm` proven to run before anything is sent: if `mv` then fails, the staged tree can be removed
  // and the container is left as it was (a path that does not exist yet is no error for `rm -f`).
  await run(["rm", "-rf", staging]);
  await client.putArchive(id, archive, parent);
  let movedAside = false;
  try {
    if (await client.pathExists(id, codeDir)) {
      await run(["mv", codeDir, aside]);
      movedAside = true;
    }
    await run(["mv", staging, codeDir]);
  } catch (error) {
    // The old code back first (the container may be reading it), the staged tree removed after.
    const restored = !movedAside || (await run(["mv", aside, codeDir]).then(
      () => true,
      (undo: unknown) => void log.error("cannot put the old code back", { container: id.slice(0, 12), code_dir: codeDir, old_code: aside, error: undo }),
    ));
    await run(["rm", "-rf", staging]).catch(() => {});
    // The reply must not say "the old code is in place" when it is not: it names where it is.
    if (!restored) throw new FlowError("docker_api_error", `update_container: the new code could not be swapped in, nor the old put back: ${codeDir} is missing in the container, the old code is at ${aside}`, { code_dir: codeDir, old_code: aside });
    throw error;
  }
  if (movedAside) await run(["rm", "-rf", aside]).catch((error: unknown) => log.warn("cannot remove the old code", { container: id.slice(0, 12), error }));
}
