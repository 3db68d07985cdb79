/**
 * The `[Service]` settings that confine dockernet: the capabilities each mode needs and no more,
 * and hardening that takes away what no mode uses.
 */
import type { ServiceMode } from "./systemd-modes.ts";

/**
 * The capabilities each mode needs, and no more. Units run as root with CapabilityBoundingSet=
 * limiting what root keeps. Measured that way (`setpriv --bounding-set ... --no-new-privs`, which
 * is what systemd applies) against containers of a real engine, running as root and as uid 1000;
 * test/e2e/service.test.ts repeats it:
 *
 * warp runs `nsenter -t PID -n ip -batch -` per target, and needs all three:
 * - CAP_SYS_PTRACE: nsenter opens /proc/PID/ns/net, which is a ptrace access check. Without the
 *   capability it passes only if our permitted set holds all of the target's, and a container's
 *   default set (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_SETUID...) is not inside ours: "cannot open
 *   /proc/PID/ns/net: Permission denied", for containers running as root just as for others.
 * - CAP_SYS_ADMIN: setns() into the network namespace ("reassociate to namespace 'ns/net' failed").
 * - CAP_NET_ADMIN: the `ip rule` and `ip route` changes ("RTNETLINK answers: Operation not permitted").
 *
 * join only calls the Docker API. The socket is root:docker 0660 and root owns it, so no
 * capability is involved: its bounding set is empty.
 *
 * No User=, hence no AmbientCapabilities=: whoever can use the Docker socket is root in all but
 * name (it can start a privileged container). A separate user would need the docker group and,
 * for warp, AmbientCapabilities= (a non-root process loses its capabilities on exec of nsenter),
 * and would take away nothing an attacker could not get back through the socket.
 */
export const modeCapabilities: Record<ServiceMode, readonly string[]> = {
  warp: ["CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"],
  join: [],
};

const capabilityNotes: Record<ServiceMode, string> = {
  warp: "# warp: nsenter opens /proc/PID/ns/net (CAP_SYS_PTRACE) and enters it (CAP_SYS_ADMIN); ip changes routes (CAP_NET_ADMIN).",
  join: "# join: only the Docker API; root owns the socket, so it needs no capability.",
};

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
export function sandboxSettings(modes: readonly ServiceMode[], paths: readonly (string | undefined)[]): string[] {
  const capabilities = [...new Set(modes.flatMap((mode) => modeCapabilities[mode]))];
  const underHome = paths.some((path) => path !== undefined && homes.test(path));
  return [
    ...modes.map((mode) => capabilityNotes[mode]),
    `CapabilityBoundingSet=${capabilities.join(" ")}`,
    "NoNewPrivileges=yes",
    "# dockernet writes no files; connecting to the Docker socket works on a read-only mount.",
    "ProtectSystem=strict",
    ...(underHome ? ["# read-only, not yes: the binary or the config is under a home directory.", "ProtectHome=read-only"] : ["ProtectHome=yes"]),
    "PrivateTmp=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
  ];
}
