import { DockernetError } from "../core/errors.ts";
import { assertContainerNetns } from "./netns-guard.ts";
import { runCommand } from "./runner.ts";

/** One `ip` command of a batch, as arguments (`["route", "replace", "10.0.0.0/8", ...]`). */
export type IpCommand = readonly string[];

export interface BatchLineResult {
  command: IpCommand;
  /** The kernel's answer when this line failed (`-force` runs the lines after it anyway). */
  error?: string;
  /** The parsed JSON of a `show` line. */
  output?: unknown;
}

// `ip -batch` splits lines on blanks and honours quotes, so every token must be a plain word:
// addresses, numbers and keywords. Anything else is refused before a process starts.
const safeToken = /^[A-Za-z0-9._:/-]{1,64}$/;

/** The text of one batch line; throws when a token could change how `ip` reads the line. */
export function batchLine(command: IpCommand): string {
  for (const token of command) {
    if (!safeToken.test(token)) {
      throw new DockernetError(`refusing ip argument ${JSON.stringify(token.slice(0, 80))}`, { code: "UNSAFE_ARGUMENT" });
    }
  }
  return command.join(" ");
}

function isShow(command: IpCommand): boolean {
  return command.includes("show") || command.includes("list");
}

/**
 * Runs several `ip` commands of one address family in the network namespace of `pid` with one
 * `nsenter ... ip [-6] -json -force -batch -` process, and returns one result per command: the JSON of `show` commands and
 * the error of failed ones.
 */
export async function ipBatch(pid: number, commands: readonly IpCommand[], options: { family?: 4 | 6; timeoutMs?: number; containerId?: string } = {}): Promise<BatchLineResult[]> {
  if (!Number.isInteger(pid) || pid <= 0) throw new DockernetError(`invalid namespace pid ${pid}`, { code: "BAD_PID" });
  if (options.containerId !== undefined) await assertContainerNetns(pid, options.containerId);
  const input = `${commands.map(batchLine).join("\n")}\n`;
  // `ip -batch` takes options once for all lines, so IPv6 commands need a process of their own.
  // The family is always explicit: some dumps (`route show table all`) list both families otherwise.
  const family = options.family === 6 ? ["-6"] : ["-4"];
  const result = await runCommand("nsenter", ["-t", String(pid), "-n", "ip", ...family, "-json", "-force", "-batch", "-"], {
    input,
    allowFail: true,
    timeoutMs: options.timeoutMs,
  });
  if (result.code !== 0 && !/Command failed -:\d+/.test(result.stderr)) {
    throw new DockernetError(`nsenter -t ${pid} -n ip -batch failed: ${result.stderr.trim() || `exit code ${result.code}`}`, {
      code: result.stderr.includes("No such file") ? "NETNS_GONE" : "IP_FAILED",
    });
  }
  const errors = parseBatchErrors(result.stderr);
  const outputs = result.stdout.split("\n").filter((line) => line.trim() !== "");
  let next = 0;
  return commands.map((command, index) => {
    const line: BatchLineResult = { command };
    const error = errors.get(index + 1);
    if (error !== undefined) line.error = error;
    else if (isShow(command)) line.output = JSON.parse(outputs[next++] ?? "[]");
    return line;
  });
}

/** Maps batch line numbers (1-based) to the messages `ip` printed before `Command failed -:N`. */
export function parseBatchErrors(stderr: string): Map<number, string> {
  const errors = new Map<number, string>();
  let pending: string[] = [];
  for (const raw of stderr.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const failed = /^Command failed -:(\d+)$/.exec(line);
    if (failed) {
      errors.set(Number(failed[1]), pending.join("; ") || "failed");
      pending = [];
    } else {
      pending.push(line);
    }
  }
  return errors;
}
