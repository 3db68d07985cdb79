import { connect } from "node:net";
import { sleep } from "../../../../../core/backoff.ts";
import { DockernetError } from "../../../../../core/errors.ts";
import type { Logger } from "../../../../../core/logger.ts";

/** Whether a TCP connection to `host:port` opens within `timeoutMs`. */
function answers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export interface WaitSshOptions {
  log: Logger;
  /** Give up after this long. */
  timeoutMs: number;
  /** Between two attempts. */
  retryMs: number;
  /** Stops the wait (SIGINT, SIGTERM): rejects with BRIDGE_CREATE_INTERRUPTED. */
  signal?: AbortSignal;
  /** Log `waiting for SSH` at info even when the port answers at once (a new server: the client is waiting). */
  announce: boolean;
}

/**
 * Waits until the server's SSH port accepts a TCP connection. On a new server that is after
 * cloud-init's first stages (host key, volume, Docker): sshd starts after them.
 */
export async function waitForSsh(host: string, port: number, options: WaitSshOptions): Promise<void> {
  const { log } = options;
  const address = `${host}:${port}`;
  const started = Date.now();
  const attemptMs = Math.min(5000, options.timeoutMs);
  if (options.announce) log.info("waiting for SSH", { address });
  for (let attempt = 0; ; attempt++) {
    interrupted(options.signal, address);
    if (await answers(host, port, attemptMs)) {
      if (options.announce || attempt > 0) log.info("SSH answers", { address, after_s: Math.round((Date.now() - started) / 100) / 10 });
      return;
    }
    if (attempt === 0 && !options.announce) log.info("waiting for SSH", { address });
    interrupted(options.signal, address);
    if (Date.now() - started + options.retryMs > options.timeoutMs) {
      throw new DockernetError(`the server's SSH port ${address} did not answer within ${Math.round(options.timeoutMs / 1000)} s`, {
        code: "HETZNER_SSH_TIMEOUT",
        hint: "the server may still be installing Docker (cloud-init): a longer bridge.create_timeout (DOCKERNET_BRIDGE_CREATE_TIMEOUT) waits longer; its console in the Hetzner Cloud Console shows the boot",
      });
    }
    await sleep(options.retryMs, options.signal);
  }
}

function interrupted(signal: AbortSignal | undefined, address: string): void {
  if (!signal?.aborted) return;
  throw new DockernetError(`interrupted (${String(signal.reason ?? "stopped")}) while waiting for the server's SSH port ${address}`, { code: "BRIDGE_CREATE_INTERRUPTED" });
}
