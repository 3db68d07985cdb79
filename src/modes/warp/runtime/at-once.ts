/**
 * `runc run` and `runc restore` (Docker's `start --checkpoint`) create and start a container in
 * one call: there is no parked moment in which to route it. A warp target is refused there (fail
 * closed); any other container passes untouched.
 */
import { DockernetError } from "../../../core/errors.ts";
import type { WarpConfig } from "../config.ts";
import { containerDir, readContainerFiles, targetLabel } from "./bundle.ts";
import { flagValue, type OciCall } from "./oci-args.ts";

/** Throws when `call` (a `run` or `restore`) would start a warp target before its routes. */
export async function refuseTargetAtOnce(call: OciCall, setup: () => Promise<{ config: WarpConfig }>): Promise<void> {
  const id = call.rest.at(-1);
  if (id === undefined || id.startsWith("-")) return;
  // runc's default bundle is its working directory, where the shim starts it.
  const bundle = flagValue(call.rest, "--bundle") ?? flagValue(call.rest, "-b") ?? process.cwd();
  const dir = await containerDir(bundle, id);
  if (dir === undefined) return; // not a Docker container (a build step of BuildKit...)
  const files = await readContainerFiles(dir, id, 0);
  const found = await targetLabel(files.labels, setup);
  if (found === undefined) return;
  throw new DockernetError(`container ${files.name}: runc ${call.command} would start it at once, before warp could route it (label ${found.label})`, {
    code: "RUNTIME_AT_ONCE",
    hint: "start the target without a checkpoint, or under runc with the daemon routing it after its start",
  });
}
