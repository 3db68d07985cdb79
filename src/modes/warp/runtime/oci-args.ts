/**
 * Reading the command line an OCI runtime gets from containerd's runc shim, without changing it:
 * `[global flags] COMMAND [flags] ID`, e.g.
 * `--root R --log L --log-format json create --bundle B --pid-file P ID`, then `... start ID`.
 * Only the command and, for `start`, the container id matter to dockernet; everything is passed to
 * runc as it came.
 */

/** runc's global flags that take a value (`--root R`); the others are booleans (`--systemd-cgroup`). */
const valuedGlobals = new Set(["--root", "--log", "--log-format", "--criu", "--rootless"]);

/** One runc invocation as dockernet reads it. */
export interface OciCall {
  /** The global flags before the command, as given. */
  globals: string[];
  /** `create`, `start`, `state`, `kill`, `delete`, `exec`... or undefined (`--version`). */
  command?: string;
  /** The words after the command. */
  rest: string[];
  /** The container id: the last word of a `start` (runc's own `start` takes no flags). */
  id?: string;
}

/** Splits runc's arguments into global flags, command and the rest. Pure. */
export function parseOciCall(args: readonly string[]): OciCall {
  const globals: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (!arg.startsWith("-")) {
      const rest = args.slice(index + 1);
      const call: OciCall = { globals, command: arg, rest };
      const last = rest.at(-1);
      if (arg === "start" && last !== undefined && !last.startsWith("-")) call.id = last;
      return call;
    }
    globals.push(arg);
    if (valuedGlobals.has(arg) && index + 1 < args.length) globals.push(args[++index] as string);
  }
  return { globals, rest: [] };
}

/** The value of `--flag V` or `--flag=V` in `args`. */
export function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === flag) return args[index + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

/**
 * How many file descriptors beyond stdio runc must get (`create`/`run`/`exec --preserve-fds N`
 * hands fds 3 to 3+N-1 to the container); 0 without the flag.
 */
export function preservedFds(call: OciCall): number {
  const value = Number(flagValue(call.rest, "--preserve-fds") ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}
