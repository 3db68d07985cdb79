import { DockernetError, ExitCode } from "../../../core/errors.ts";
import { parseListen } from "../../../core/listen.ts";
import { whyNoDir, whyNoFile } from "../../../core/writable.ts";
import type { FlowConfig } from "../config.ts";
import { ChannelHub } from "./channel.ts";
import { checkRootsOnDisk } from "./paths.ts";

/**
 * What `flow serve` refuses before it makes anything or asks the engine: overlapping roots
 * (symlinks resolved) or a root holding the socket dir or token file, a bad listen address, a
 * socket dir too long or not writable, a token file it can neither read nor create. Otherwise an
 * unwritable socket dir surfaced only at the first create_container, and a token dir as a raw
 * EACCES after the engine was already contacted.
 */
export async function checkFlowStart(config: FlowConfig): Promise<void> {
  await checkRootsOnDisk({ volumeRoots: config.volume_roots, codeRoots: config.code_roots, socketDir: config.socket_dir, tokenFile: config.token_file });
  parseListen(config.listen, "--listen");
  ChannelHub.checkSocketDir(config.socket_dir);
  // Both paths at once: a user fixing one flag should not meet the next error only on the next try.
  const problems: { line: string; flag: string; key: string }[] = [];
  const socketDir = await whyNoDir(config.socket_dir);
  if (socketDir !== undefined) problems.push({ line: `the socket directory ${config.socket_dir}: ${socketDir}`, flag: "--socket-dir", key: "flow.socket_dir" });
  const token = await whyNoFile(config.token_file);
  if (token !== undefined) problems.push({ line: `the token file ${config.token_file}: ${token}`, flag: "--token-file", key: "flow.token_file" });
  if (problems.length === 0) return;
  const lines = problems.map((problem) => problem.line);
  throw new DockernetError(lines.length === 1 ? `flow cannot use ${lines[0]}` : `flow cannot use its paths:\n${lines.map((line) => `  ${line}`).join("\n")}`, {
    code: "FLOW_PATH",
    exitCode: ExitCode.usage,
    details: lines,
    hint: `choose paths this user can write with ${problems.map((problem) => problem.flag).join(" and ")} (or ${problems.map((problem) => problem.key).join(" and ")} in the config file), or run flow serve as root`,
  });
}
