import { access, constants, realpath, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";

/** The absolute path `name` runs as: itself when it has a slash, else the first executable on `PATH`; undefined when none. */
export async function findExecutable(name: string, path = process.env.PATH ?? ""): Promise<string | undefined> {
  const candidates = name.includes("/") ? [name] : path.split(":").filter(isAbsolute).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      // A directory is "executable" too (searchable): only a file is a program.
      if (!(await stat(candidate)).isFile()) continue;
      return await realpath(candidate);
    } catch {
      // not here: the next directory of PATH
    }
  }
  return undefined;
}
