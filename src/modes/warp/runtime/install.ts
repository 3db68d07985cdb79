import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import { usageError } from "../../../core/errors.ts";
import { selfCommand } from "../../../core/runtime.ts";
import { findExecutable } from "../../../net/which.ts";
import type { ActionContext } from "../../types.ts";
import type { WarpConfig } from "../config.ts";
import { readIfPresent, writeAtomically } from "./daemon-json-file.ts";
import { describeChange, parseDaemonJson, renderDaemonJson, runtimeName, withoutRuntime, withRuntime, type RuntimeEntry } from "./daemon-json.ts";
import { ociWords } from "./entry.ts";

/** Where Docker reads its daemon config unless `--daemon-json` says otherwise. */
export const defaultDaemonJson = "/etc/docker/daemon.json";

/** The dockernet executable Docker will run: this one when compiled, else `dockernet` on the PATH. */
async function dockernetBinary(): Promise<string> {
  const [program, args] = selfCommand([]);
  if (args.length === 0) return program;
  const found = await findExecutable("dockernet");
  if (found === undefined) throw usageError("no dockernet executable to register (running from source, and none on the PATH)", "install the compiled binary first (install.sh), then run its `warp runtime install`");
  return found;
}

/** The entry: dockernet with the words that reach the runtime, and what it must know without the caller's env. */
async function runtimeEntry(context: ActionContext<WarpConfig>): Promise<RuntimeEntry> {
  const runc = await findExecutable(context.config.runc);
  if (runc === undefined) throw usageError(`warp.runc ${JSON.stringify(context.config.runc)} is not an executable on the PATH`, "install runc, or set warp.runc to its path");
  const path = await dockernetBinary();
  if (runc === (await realpath(path).catch(() => path))) throw usageError(`warp.runc ${JSON.stringify(context.config.runc)} is dockernet itself`, "set warp.runc to the real runc (e.g. /usr/sbin/runc)");
  const runtimeArgs = [...ociWords, "--runc", runc];
  // dockerd's shim runs the runtime without the caller's environment: what chose the engine and the config goes in the entry.
  // Absolute: the shim runs the runtime in the container's bundle directory, where `./config.toml` is not.
  if (context.globals.configFile !== undefined) runtimeArgs.push("--config", resolve(context.globals.configFile));
  if (context.globals.dockerHost !== undefined) runtimeArgs.push("--docker-host", context.globals.dockerHost);
  return { path, runtimeArgs: [...runtimeArgs, "--"] };
}

/** `dockernet warp runtime install|uninstall [--default] [--daemon-json PATH] [--dry-run]`. */
export async function runtimeCommand(context: ActionContext<WarpConfig>): Promise<number> {
  const operation = context.args.operation;
  if (operation !== "install" && operation !== "uninstall") {
    throw usageError(`unknown runtime operation ${JSON.stringify(operation ?? "")}`, "dockernet warp runtime install [--default] [--daemon-json PATH] [--dry-run], or uninstall");
  }
  if (operation === "uninstall" && context.args.default === true) throw usageError("--default is for install");
  const file = typeof context.args["daemon-json"] === "string" ? context.args["daemon-json"] : defaultDaemonJson;
  const text = await readIfPresent(file);
  const before = parseDaemonJson(text, file);
  const after = operation === "install" ? withRuntime(before, await runtimeEntry(context), { makeDefault: context.args.default === true }) : withoutRuntime(before);
  const changes = describeChange(before, after);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (changes.length === 0) {
    out(`${file}: already ${operation === "install" ? "holds" : "has no"} runtime ${runtimeName}; nothing to change`);
    return 0;
  }
  if (context.args["dry-run"] === true) {
    out(`would change ${file}:`);
    for (const line of changes) out(`  ${line}`);
    return 0;
  }
  const backup = await writeAtomically(file, renderDaemonJson(after), text !== undefined);
  out(`${operation === "install" ? "registered" : "removed"} runtime ${runtimeName} in ${file}${backup ? ` (previous version: ${backup})` : ""}`);
  for (const line of changes) out(`  ${line}`);
  out("dockerd reads runtimes again on SIGHUP: sudo systemctl reload docker (or kill -HUP the dockerd pid)");
  if (operation === "install") {
    const unseen = Object.keys(process.env).filter((name) => /^DOCKERNET_(WARP|LOG)_/.test(name));
    // A label_prefix only this shell knows would let the runtime miss a target: say so.
    if (unseen.length > 0) out(`note: ${unseen.sort().join(", ")} set here will not reach the runtime (dockerd's shim runs it without your environment): put them in the config file`);
    out(after["default-runtime"] === runtimeName ? "every new container then starts under it" : `then: docker run --runtime ${runtimeName} ... (compose: runtime: ${runtimeName}) for targets that must never leak`);
  }
  return 0;
}
