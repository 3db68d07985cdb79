/**
 * The reference agent as its own process, for tests: `bun test/support/flow-agent-entry.ts
 * [CMD ARGS...]` with DOCKERNET_FLOW_SOCKET naming the socket. Logs JSON lines on stderr
 * (level from FLOW_AGENT_LOG_LEVEL, default debug); SIGTERM or SIGINT ends it with code 0.
 */
import { configureLogging, createLogger, type LogLevel } from "../../src/core/logger.ts";
import { runAgent } from "../../src/modes/flow/agent/agent.ts";

const socketPath = process.env.DOCKERNET_FLOW_SOCKET;
if (!socketPath) {
  process.stderr.write("DOCKERNET_FLOW_SOCKET is not set\n");
  process.exit(2);
}
// bun drops a `--` after the script itself; take one if another runtime passes it on.
const words = process.argv.slice(2);
const command = words[0] === "--" ? words.slice(1) : words;
configureLogging({ level: (process.env.FLOW_AGENT_LOG_LEVEL as LogLevel | undefined) ?? "debug", format: "json" });

const controller = new AbortController();
process.once("SIGTERM", () => controller.abort());
process.once("SIGINT", () => controller.abort());
process.exitCode = await runAgent({ socketPath, command: command.length > 0 ? command : undefined, log: createLogger("flow-agent"), signal: controller.signal });
