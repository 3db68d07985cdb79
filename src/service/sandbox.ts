/**
 * The `[Service]` settings that confine dockernet: the capabilities each mode needs and no more,
 * and hardening that takes away what no mode uses.
 */
import type { ModeDescription } from "../modes/description.ts";

/**
 * Units run as root with CapabilityBoundingSet= limiting what root keeps: the union of what the
 * unit's modes declare (`capabilities` in each mode's description), each measured that way
 * (`setpriv --bounding-set ... --no-new-privs`, which is what systemd applies) against containers
 * of a real engine, running as root and as uid 1000; test/e2e/service.test.ts repeats it.
 *
 * No User=, hence no AmbientCapabilities=: whoever can use the Docker socket is root in all but
 * name (it can start a privileged container). A separate user would need the docker group and,
 * for warp, AmbientCapabilities= (a non-root process loses its capabilities on exec of nsenter),
 * and would take away nothing an attacker could not get back through the socket.
 */
/**
 * Paths under /run become the unit's RuntimeDirectory= (systemd creates them, writable, and keeps
 * them across restarts so clients' sockets stay put); others are ReadWritePaths= when they exist.
 */
function writableSettings(paths: readonly string[]): string[] {
  const runtime = paths.filter((path) => path.startsWith("/run/")).map((path) => path.slice("/run/".length));
  const others = paths.filter((path) => !path.startsWith("/run/"));
  return [
    ...(runtime.length > 0 ? [`RuntimeDirectory=${runtime.join(" ")}`, "RuntimeDirectoryMode=0700", "RuntimeDirectoryPreserve=yes"] : []),
    ...(others.length > 0 ? [`ReadWritePaths=${others.map((path) => `-${path}`).join(" ")}`] : []),
  ];
}

// ProtectHome=yes hides these; read-only still lets the service run a binary or read a config there.
const homes = /^\/(home|root|run\/user)(\/|$)/;

/**
 * Capabilities plus hardening that removes what dockernet never uses: write access to the file
 * system (connecting to the Docker socket works on a read-only mount, tested), home directories,
 * the shared /tmp, kernel tunables, modules, logs and cgroups. Each is a mount or a dropped
 * capability, checked against what the modes do. It stops short of the seccomp-based settings
 * (SystemCallFilter=, RestrictAddressFamilies=, RestrictNamespaces=): they bind nsenter and ip
 * too, and a mistake there would show only at run time, on a machine running systemd, which the
 * tests do not have. MemoryDenyWriteExecute= would break the JavaScript JIT.
 */
export function sandboxSettings(modes: readonly ModeDescription[], paths: readonly (string | undefined)[]): string[] {
  const capabilities = [...new Set(modes.flatMap((mode) => mode.capabilities.names))];
  const underHome = paths.some((path) => path !== undefined && homes.test(path));
  const writers = modes.flatMap(({ name, writes }) => (writes ? [{ mode: name, ...writes }] : []));
  const writable = [...new Set(writers.flatMap((writer) => writer.paths))];
  return [
    ...modes.map((mode) => `# ${mode.name}: ${mode.capabilities.why}`),
    `CapabilityBoundingSet=${capabilities.join(" ")}`,
    "NoNewPrivileges=yes",
    writable.length === 0
      ? "# dockernet writes no files; connecting to the Docker socket works on a read-only mount."
      : "# Read-only but for what a mode writes; connecting to the Docker socket works on a read-only mount.",
    "ProtectSystem=strict",
    ...writers.map((writer) => `# ${writer.mode} writes ${writer.why}`),
    ...writableSettings(writable),
    ...(underHome ? ["# read-only, not yes: the binary or the config is under a home directory.", "ProtectHome=read-only"] : ["ProtectHome=yes"]),
    "PrivateTmp=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
  ];
}
