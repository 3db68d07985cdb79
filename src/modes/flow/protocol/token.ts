import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { DockernetError, ExitCode } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code;
}

/** The token in `file`; with `create`, a random one is written there (mode 0600) when the file is absent. */
export async function readToken(file: string, options: { create: boolean; log: Logger }): Promise<string> {
  try {
    const info = await stat(file);
    // Readable by others: say so, since the token opens the whole API.
    if ((info.mode & 0o077) !== 0) options.log.warn("the token file is readable by other users", { file, mode: (info.mode & 0o777).toString(8), hint: `chmod 600 ${file}` });
    const token = (await readFile(file, "utf8")).trim();
    if (token.length < 16) throw new DockernetError(`the token in ${file} is too short (at least 16 characters)`, { code: "FLOW_TOKEN", exitCode: ExitCode.usage });
    return token;
  } catch (error) {
    if (errorCode(error) !== "ENOENT") {
      if (error instanceof DockernetError) throw error;
      throw new DockernetError(`cannot read the token file ${file}: ${errorCode(error) ?? String(error)}`, { code: "FLOW_TOKEN", cause: error });
    }
    if (!options.create) {
      throw new DockernetError(`no token file ${file}`, { code: "FLOW_TOKEN", exitCode: ExitCode.usage, hint: "start `dockernet flow serve` once to create it, or name the server's token file with --token-file" });
    }
  }
  const token = randomBytes(32).toString("base64url");
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // `wx`: never overwrite a file that appeared meanwhile; 0600 from the start, no window.
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: "wx" });
  options.log.info("created an API token", { file });
  return token;
}

/** Compares a presented token with the expected one in constant time (over fixed-length digests). */
export function tokenMatches(presented: unknown, expected: string): boolean {
  if (typeof presented !== "string") return false;
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
