import { constants } from "node:fs";
import { access, lstat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { systemReason } from "./errors.ts";

/** Who this process is, for messages: the same path is fine for root and refused for others. */
function user(): string {
  const uid = process.getuid?.();
  return uid === undefined ? "this user" : `uid ${uid}`;
}

/** The path itself when it exists, else its closest existing ancestor. */
async function closestExisting(path: string): Promise<string> {
  let current = resolve(path);
  for (;;) {
    try {
      await lstat(current);
      return current;
    } catch {
      const up = dirname(current);
      if (up === current) return current;
      current = up;
    }
  }
}

/**
 * Why this process could not create (or write in) the directory `path`, or undefined when it
 * can. Nothing is created: a daemon asks this at start, before making anything, so a path it
 * would only fail on later (at the first request) is refused with its reason at once.
 */
export async function whyNoDir(path: string): Promise<string | undefined> {
  const existing = await closestExisting(path);
  const info = await lstat(existing).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) return `${existing} is not a directory`;
  try {
    await access(existing, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    const reason = systemReason(error);
    return existing === resolve(path) ? `${existing} is not writable by ${user()} (${reason})` : `${existing} is not writable by ${user()} (${reason}), so ${resolve(path)} cannot be created`;
  }
}

/** Why this process could not read the file `path` if it exists or create it if not, or undefined when it can. */
export async function whyNoFile(path: string): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) return await whyNoDir(dirname(path));
  if (info.isDirectory()) return `${path} is a directory`;
  try {
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return `${path} is not readable by ${user()} (${systemReason(error)})`;
  }
}
