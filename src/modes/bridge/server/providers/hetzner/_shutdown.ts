import { sleep } from "../../../../../core/backoff.ts";
import type { Logger } from "../../../../../core/logger.ts";
import { HetznerApiError, type HetznerAction, type HetznerApi, type HetznerServer } from "./_api.ts";

/**
 * Stops a server before it is deleted: Hetzner's `shutdown` action (an ACPI request, so dockerd
 * and the containers stop cleanly and the Docker volume is left consistent), then its status
 * polled until `off`, for at most `timeoutMs`. The action only says the request was sent: an OS
 * that does not react is deleted anyway after the wait (the delete powers it off). False when the
 * server is gone already.
 */
export async function shutDown(api: HetznerApi, server: Pick<HetznerServer, "id" | "name">, options: { timeoutMs: number; pollMs: number; log: Logger }): Promise<boolean> {
  const { log } = options;
  const now = await current(api, server.id);
  if (now === undefined) return false;
  if (now.status === "off") return true;
  log.info("shutting the server down", { name: server.name, id: server.id, timeout_s: Math.round(options.timeoutMs / 1000) });
  const { action } = await api.call<{ action: HetznerAction }>("POST", `/servers/${server.id}/actions/shutdown`);
  await api.waitFor([action], `shutting down the server ${server.name}`);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const seen = await current(api, server.id);
    if (seen === undefined) return false;
    if (seen.status === "off") return true;
    if (Date.now() >= deadline) {
      log.warn("the server did not shut down in time; deleting it anyway", { name: server.name, id: server.id, status: seen.status, waited_s: Math.round(options.timeoutMs / 1000) });
      return true;
    }
    await sleep(options.pollMs);
  }
}

async function current(api: HetznerApi, id: number): Promise<HetznerServer | undefined> {
  try {
    return (await api.call<{ server: HetznerServer }>("GET", `/servers/${id}`)).server;
  } catch (error) {
    if (error instanceof HetznerApiError && error.apiCode === "not_found") return undefined;
    throw error;
  }
}
