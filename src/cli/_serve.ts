import type { ResolvedConfig } from "../config/load.ts";
import { shutdownSignal } from "../core/lifecycle.ts";
import type { Config } from "../modes/config.ts";
import type { AnyMode } from "../modes/types.ts";
import { connectDocker } from "./_context.ts";

/**
 * Runs modes as daemons until SIGTERM or SIGINT (`dockernet warp`, `flow serve`, `run ...`). The
 * local engine must answer first only when a mode works on it: the bridge alone needs none.
 */
export async function serveModes(modes: readonly AnyMode[], resolved: ResolvedConfig<Config>): Promise<void> {
  for (const mode of modes) await mode.check?.(resolved.config[mode.name as keyof Config]);
  const client = await connectDocker(resolved, { check: modes.some((mode) => mode.localDocker !== false) });
  const { runDaemon } = await import("../modes/daemon.ts");
  const shutdown = shutdownSignal();
  try {
    await runDaemon(modes, { client, config: resolved.config, signal: shutdown.signal, metricsListen: resolved.config.metrics.listen });
  } finally {
    shutdown.dispose();
  }
}
