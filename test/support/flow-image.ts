/**
 * The agent image of the flow tests, `dockernet-test:agent`: the busybox test image plus the
 * compiled binary at /usr/local/bin/dockernet and the host's C library files it loads (at the
 * same paths), with `CMD ["/usr/local/bin/dockernet","flow","agent"]`. It also holds
 * /bin/relay.sh, a CMD for `flow agent -- /bin/relay.sh` that answers the relayed requests.
 *
 * ```ts
 * await buildAgentImage(engine);
 * await call(client, "create_container", { image: AGENT_IMAGE, command: RELAY_COMMAND });
 * ```
 */
import { spawnSync } from "node:child_process";
import { readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { exec } from "./_exec.ts";
import { repoRoot } from "./dockernet.ts";
import type { TestEngine } from "./engine.ts";
import { buildTestImage } from "./image.ts";

/** Tag of the agent image in a test engine. */
export const AGENT_IMAGE = "dockernet-test:agent";
/** The compiled binary: built by `npm test` before any test runs. */
export const BINARY = join(repoRoot, "dist/dockernet");
/** Where the binary is in the agent image. */
export const BINARY_IN_IMAGE = "/usr/local/bin/dockernet";
/** The agent with the relay as its CMD. */
export const RELAY_COMMAND = [BINARY_IN_IMAGE, "flow", "agent", "--", "/bin/relay.sh"];

/**
 * The relay: one JSON line on stdin per request (`{"id","command","data"}`, in that order), one
 * line out per answer carrying its id. `hello` is said once at start, unasked. Commands:
 * `emit` sends the event `tick` before answering; `say` writes a line to stderr (the container's
 * log) before answering; `code` answers with the output of /app/code.sh (what update_container
 * puts there); `fail` answers with an error; `silent` never answers; anything else is echoed
 * back with its name. Only sh string handling: no jq, no sed.
 */
export const RELAY_SCRIPT = `#!/bin/sh
echo '{"command":"hello","data":{"from":"relay"}}'
while IFS= read -r line; do
  id=\${line#*\\"id\\":\\"}; id=\${id%%\\"*}
  command=\${line#*\\"command\\":\\"}; command=\${command%%\\"*}
  case "$command" in
    emit) echo '{"command":"tick","data":{"from":"relay"}}'
          echo "{\\"id\\":\\"$id\\",\\"data\\":{\\"emitted\\":true}}" ;;
    say) echo "the relay says $id" >&2
         echo "{\\"id\\":\\"$id\\",\\"data\\":{\\"said\\":true}}" ;;
    code) out=none; [ -f /app/code.sh ] && out=$(sh /app/code.sh)
          echo "{\\"id\\":\\"$id\\",\\"data\\":{\\"code\\":\\"$out\\"}}" ;;
    fail) echo "{\\"id\\":\\"$id\\",\\"error\\":\\"the relay refuses\\"}" ;;
    silent) ;;
    *) echo "{\\"id\\":\\"$id\\",\\"data\\":{\\"command\\":\\"$command\\",\\"from\\":\\"relay\\"}}" ;;
  esac
done
`;

/** The newest modification time of the files under `dir`. */
async function newest(dir: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const parent = (entry as { parentPath?: string; path?: string }).parentPath ?? (entry as { path?: string }).path ?? dir;
    latest = Math.max(latest, (await stat(join(parent, entry.name))).mtimeMs);
  }
  return latest;
}

/**
 * dist/dockernet, built when it is missing or older than the source (a stale agent would test
 * yesterday's code). The new binary is renamed into place, so a process running the old one is
 * not disturbed.
 */
export async function ensureBinary(): Promise<string> {
  const built = await stat(BINARY).catch(() => undefined);
  if (built && built.mtimeMs >= (await newest(join(repoRoot, "src")))) return BINARY;
  const temporary = `${BINARY}.${process.pid}.tmp`;
  try {
    // build-binary.ts names its entry point relative to the repository.
    const build = spawnSync(join(repoRoot, "node_modules/.bin/bun"), ["test/support/build-binary.ts", "--outfile", temporary], { cwd: repoRoot, encoding: "utf8", timeout: 300_000 });
    if (build.status !== 0) throw new Error(`cannot build ${BINARY} (exit ${build.status}): ${build.stderr || build.stdout || build.error?.message}`);
    await rename(temporary, BINARY);
  } finally {
    await rm(temporary, { force: true });
  }
  return BINARY;
}

/** The shared libraries `ldd` lists for a dynamic executable (the loader included), by absolute path. */
export async function sharedLibraries(file: string): Promise<string[]> {
  const { stdout } = await exec("ldd", [file]);
  return [...stdout.matchAll(/^\s*(?:\S+ => )?(\/\S+) \(0x[0-9a-f]+\)$/gm)].map((match) => match[1] as string);
}

/** Builds {@link AGENT_IMAGE} in `engine` (the binary built first when needed). */
export async function buildAgentImage(engine: TestEngine): Promise<void> {
  const binary = await ensureBinary();
  const libraries = await sharedLibraries(binary);
  if (!libraries.some((path) => path.includes("ld-linux"))) throw new Error(`ldd ${binary} lists no loader: ${libraries.join(", ")}`);
  await buildTestImage((args, options) => engine.docker(args, options), AGENT_IMAGE, {
    applets: ["kill", "pidof", "ps", "sed", "test", "[", "mv", "rm", "stat", "yes", "head", "find", "sort"],
    files: {
      [BINARY_IN_IMAGE]: binary,
      ...Object.fromEntries(libraries.map((path) => [path, path])),
      "/bin/relay.sh": { text: RELAY_SCRIPT },
    },
    cmd: [BINARY_IN_IMAGE, "flow", "agent"],
  });
}
