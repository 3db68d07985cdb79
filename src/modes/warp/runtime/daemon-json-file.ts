/** daemon.json on disk: read when present, written atomically with a backup. */
import { chmod, copyFile, open, readFile, realpath, rename, rm, stat } from "node:fs/promises";
import { DockernetError } from "../../../core/errors.ts";

/** The file's text; undefined when it does not exist (a machine without a daemon.json yet). */
export async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new DockernetError(`cannot read ${file}: ${(error as Error).message}`, { code: "DAEMON_JSON", cause: error });
  }
}

/**
 * Writes next to the file and renames over it (never half a file for dockerd to read), after a
 * backup of the old one. A symlinked daemon.json is written where it points (the link stays); the
 * new file and the backup get the old file's mode (0644 for a new one) whatever the umask; the
 * temporary file is created exclusively (nothing planted there is followed), synced before the
 * rename, and removed when anything fails.
 */
export async function writeAtomically(file: string, text: string, existed: boolean): Promise<string | undefined> {
  const real = existed ? await realpath(file) : file;
  const mode = existed ? (await stat(real)).mode & 0o777 : 0o644;
  const backup = existed ? `${file}.dockernet-backup` : undefined;
  if (backup) {
    await copyFile(real, backup);
    await chmod(backup, mode);
  }
  const temporary = `${real}.dockernet-${process.pid}`;
  let created = false;
  try {
    const handle = await open(temporary, "wx", mode);
    created = true;
    try {
      await handle.writeFile(text);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, real);
  } catch (error) {
    if (created) await rm(temporary, { force: true }); // only ours: never what was there before
    throw new DockernetError(`cannot write ${file}: ${(error as Error).message}`, { code: "DAEMON_JSON", cause: error });
  }
  return backup;
}
