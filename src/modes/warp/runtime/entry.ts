/**
 * `dockernet warp runtime oci [--runc PATH] [--config FILE] [--docker-host URL] -- RUNC ARGS...`:
 * the OCI runtime Docker calls (through the `runtimes` entry `runtime install` writes). Every call
 * goes to the real runc untouched; only the `start` of a warp target routes it first, and fails
 * closed: a target that cannot be routed does not start.
 */
import { appendFile, realpath } from "node:fs/promises";
import { DockernetError, errorMessage, ExitCode } from "../../../core/errors.ts";
import { runAttached } from "../../../net/runner.ts";
import { findExecutable } from "../../../net/which.ts";
import { flagValue, parseOciCall, preservedFds } from "./oci-args.ts";

/** The words `runtime install` puts before runc's (`warp runtime oci`), so main.ts can take its fast path. */
export const ociWords = ["warp", "runtime", "oci"] as const;

/** Our own flags, before `--`. */
const ownFlags = ["--runc", "--config", "--docker-host"];

function splitArgs(argv: readonly string[]): { own: string[]; runc: string[] } {
  const dashes = argv.indexOf("--");
  const own = dashes < 0 ? [...argv] : argv.slice(0, dashes);
  for (let index = 0; index < own.length; index += 2) {
    const flag = own[index] as string;
    if (!ownFlags.includes(flag) || own[index + 1] === undefined) {
      throw new DockernetError(`warp runtime oci: unknown argument ${JSON.stringify(flag)}`, { code: "USAGE", exitCode: ExitCode.usage, hint: `its flags are ${ownFlags.join(", ")}, then -- and runc's arguments` });
    }
  }
  return { own, runc: dashes < 0 ? [] : argv.slice(dashes + 1) };
}

/** `warp.runc` resolved on the PATH (or as a path); never this program. */
async function resolveRunc(name: string): Promise<string> {
  const found = await findExecutable(name);
  if (found === undefined) throw new DockernetError(`runc not found: ${JSON.stringify(name)}`, { code: "RUNC_NOT_FOUND", hint: "install runc, or set warp.runc to its path" });
  if (found === (await realpath(process.execPath).catch(() => process.execPath))) {
    throw new DockernetError(`warp.runc ${JSON.stringify(name)} is dockernet itself`, { code: "RUNC_IS_SELF", hint: "set warp.runc to the real runc (e.g. /usr/sbin/runc)" });
  }
  return found;
}

/**
 * Where the shim reads a failed runtime's reason: the `--log` file, in runc's own format (one
 * JSON object per line with `--log-format json`), so `docker run`/`docker start` show it.
 */
async function reportToShim(globals: readonly string[], message: string): Promise<void> {
  process.stderr.write(`dockernet: ${message}\n`);
  const file = flagValue(globals, "--log");
  if (file === undefined) return;
  const time = new Date().toISOString();
  const line = flagValue(globals, "--log-format") === "json" ? JSON.stringify({ level: "error", msg: `dockernet: ${message}`, time }) : `time="${time}" level=error msg="dockernet: ${message.replace(/"/g, "'")}"`;
  await appendFile(file, `${line}\n`).catch(() => {});
}

/** The config (from `--config` and `--docker-host` as the entry says, else the usual places), logging set up by it. */
async function loadSetup(own: readonly string[]) {
  const { loadConfig } = await import("../../config.ts");
  const { configureLogging, createLogger } = await import("../../../core/logger.ts");
  const resolved = await loadConfig({ file: flagValue(own, "--config"), flags: { docker: { host: flagValue(own, "--docker-host") } } });
  configureLogging(resolved.config.log);
  return { config: resolved.config.warp, dockerHost: resolved.config.docker.host, log: createLogger("warp") };
}

/**
 * The runc the entry names gone (an upgrade moved it, it was removed): every container under the
 * runtime fails to start until the entry names it again, so the reason says that, not ENOENT.
 */
async function runcGone(runc: string | undefined, error: unknown): Promise<unknown> {
  if (runc === undefined || (error as DockernetError)?.code !== "COMMAND_NOT_FOUND" || (await findExecutable(runc)) !== undefined) return error;
  return new DockernetError(`runc not found: ${runc}`, { code: "RUNC_NOT_FOUND", hint: "install runc, or run `dockernet warp runtime install` again to write its path into the entry, then reload dockerd" });
}

/** Runs one call of the OCI runtime; resolves with the exit code for the shim. */
export async function runOciRuntime(argv: readonly string[]): Promise<number> {
  let globals: readonly string[] = [];
  let runc: string | undefined;
  try {
    const { own, runc: runcArgs } = splitArgs(argv);
    const call = parseOciCall(runcArgs);
    globals = call.globals;
    let loaded: ReturnType<typeof loadSetup> | undefined;
    const setup = () => (loaded ??= loadSetup(own));
    // `runtime install` writes the resolved runc, so no call reads the config for it; an entry
    // written by hand without `--runc` gets warp.runc, the same for every call.
    const given = flagValue(own, "--runc");
    runc = given ?? (await resolveRunc((await setup()).config.runc));
    if (call.command === "run" || call.command === "restore") {
      const { refuseTargetAtOnce } = await import("./at-once.ts");
      await refuseTargetAtOnce(call, setup);
    }
    if (call.command !== "start" || call.id === undefined) {
      // The fast path: no config, no Docker code.
      return await runAttached(runc, runcArgs, { extraFds: preservedFds(call) });
    }
    const { routeBeforeStart } = await import("./start.ts");
    await routeBeforeStart({ runc, globals, id: call.id, setup });
    return await runAttached(runc, runcArgs);
  } catch (caught) {
    const error = await runcGone(runc, caught);
    const hint = error instanceof DockernetError && error.hint ? ` (${error.hint})` : "";
    await reportToShim(globals, `${errorMessage(error)}${hint}`);
    return error instanceof DockernetError ? error.exitCode : ExitCode.runtime;
  }
}
