import type { Socket } from "socket.io-client";
import { DockernetError, ExitCode, errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { connectClient, connectOnce } from "./client.ts";
import type { FlowConfig } from "./config.ts";

/** How long watch waits for a server that went away to come back: a restart, not an outage. */
const comebackMs = 10_000;
const retryMs = 500;

const events = ["activity", "container_state", "container_message", "log"];

/** Subscribes to a container's own messages; the error reply when refused. */
async function subscribe(socket: Socket, container: string | undefined): Promise<{ ok?: boolean } | undefined> {
  if (container === undefined) return undefined;
  const reply = (await socket.emitWithAck("subscribe", { container_id: container })) as { ok?: boolean };
  return reply?.ok === true ? undefined : reply;
}

/** Connects again until `deadline`; true once connected, false when the time is up or `signal` aborts. */
async function comeBack(socket: Socket, url: string, config: FlowConfig, signal: AbortSignal, deadline: number): Promise<boolean> {
  while (!signal.aborted && Date.now() < deadline) {
    try {
      await connectOnce(socket, url, config);
      return true;
    } catch (error) {
      // A server back with another token will not take this one: waiting does not help.
      if (error instanceof DockernetError && error.code === "FLOW_UNAUTHORIZED") throw error;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
  return false;
}

/**
 * `flow watch`: one JSON line per event on stdout until interrupted (0). It says on stderr when it
 * is connected; when the server goes away it waits up to 10 s for it to come back (a restart),
 * subscribes again and carries on, else exits 1.
 */
export async function runWatch(options: { config: FlowConfig; log: Logger; container?: string; signal: AbortSignal }): Promise<number> {
  const { config, log, signal } = options;
  const { socket, url } = await connectClient(config, log);
  const print = (event: string) => (data: unknown) => process.stdout.write(`${JSON.stringify({ event, data })}\n`);
  for (const event of events) socket.on(event, print(event));
  try {
    const refused = await subscribe(socket, options.container);
    if (refused) {
      process.stderr.write(`${JSON.stringify(refused, null, 2)}\n`);
      return ExitCode.runtime;
    }
    log.info("watching the flow server", { url, ...(options.container ? { container: options.container } : {}) });
    for (;;) {
      const reason = await new Promise<string | undefined>((resolve) => {
        signal.addEventListener("abort", () => resolve(undefined), { once: true });
        socket.once("disconnect", (why) => resolve(why));
      });
      if (reason === undefined || signal.aborted) return ExitCode.ok;
      log.warn("the flow server closed the connection; waiting for it to come back", { reason, wait_s: comebackMs / 1000 });
      if (!(await comeBack(socket, url, config, signal, Date.now() + comebackMs))) {
        if (signal.aborted) return ExitCode.ok;
        log.error(`the flow server at ${url} did not come back within ${comebackMs / 1000} s`);
        return ExitCode.runtime;
      }
      const again = await subscribe(socket, options.container).catch((error: unknown) => ({ ok: false, message: errorMessage(error) }));
      if (again) {
        process.stderr.write(`${JSON.stringify(again, null, 2)}\n`);
        return ExitCode.runtime;
      }
      log.info("watching the flow server again", { url });
    }
  } finally {
    socket.close();
  }
}
