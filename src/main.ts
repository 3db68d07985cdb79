#!/usr/bin/env -S deno run -A
import { reluctantJitPolicy, setJitPolicy } from "./core/runtime.ts";

// The entry point loads only what its two hottest calls need; the command tree (citty, the
// logger, the help) loads after them, and each command's code only when it runs (src/cli/_root.ts).
async function main(rawArgs: string[]): Promise<void> {
  // Before any command's code: most of it runs a few times per process (see reluctantJitPolicy).
  setJitPolicy(reluctantJitPolicy);
  // The OCI runtime Docker calls for every create, start, state, kill and delete of a container
  // under it: straight to its entry, past the command tree, loading as little as it can.
  if (rawArgs[0] === "warp" && rawArgs[1] === "runtime" && rawArgs[2] === "oci") {
    const { runOciRuntime } = await import("./modes/warp/runtime/entry.ts");
    process.exitCode = await runOciRuntime(rawArgs.slice(3));
    return;
  }
  if (rawArgs.length === 1 && ["--version", "-v"].includes(rawArgs[0] ?? "")) {
    const { version } = await import("./core/version.ts");
    process.stdout.write(`${version}\n`);
    return;
  }
  const { runCli } = await import("./cli/_root.ts");
  await runCli(rawArgs);
}

// No top-level await: the compiled binary is precompiled to bytecode, which needs it.
main(process.argv.slice(2)).then(() => {
  // Open handles (keep-alive sockets, timers of libraries) must not keep a finished command alive.
  process.exit(process.exitCode ?? 0);
});
