import { errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { JoinDocker } from "./_docker.ts";
import type { PendingChanges } from "./_pending.ts";
import { mapLimit } from "../../core/map-limit.ts";
import { withRetry, type RetryPolicy } from "./_retry.ts";
import type { JoinAction } from "./plan.ts";

/** What applying needs: the client, the audit log, and where to note the changes made (see PendingChanges). */
export interface ApplyContext {
  client: JoinDocker;
  log: Logger;
  pending: PendingChanges;
  retry?: RetryPolicy;
}

/** What applying a plan did: the changes made, and the ones that still failed after retries. */
export interface ApplyResult {
  changed: JoinAction[];
  failures: { action: JoinAction; error: unknown }[];
}

// Docker makes one container's network changes one at a time anyway; a few in flight keep one
// change's retry backoff from holding up the others.
const changeConcurrency = 4;

/**
 * Connects and disconnects the proxy as planned. Every change is logged at info as an audit line
 * (proxy, network, reason, result); a change that was already true is not a change.
 */
export async function applyJoin(proxy: { id: string; name: string }, actions: JoinAction[], context: ApplyContext): Promise<ApplyResult> {
  const result: ApplyResult = { changed: [], failures: [] };
  await mapLimit(actions, changeConcurrency, async (action) => {
    try {
      if (await applyOne(proxy, action, context)) result.changed.push(action);
    } catch (error) {
      result.failures.push({ action, error });
      context.log.error("network change failed", { proxy: proxy.name, network: action.network.name, op: action.op, result: errorMessage(error) });
    }
  });
  return result;
}

async function applyOne(proxy: { id: string; name: string }, action: JoinAction, context: ApplyContext): Promise<boolean> {
  const { client, log, pending } = context;
  const network = action.network;
  const shown = { network: network.name, container: proxy.name };
  const key = pending.expect(action.op, network.id);
  try {
    const outcome = await withRetry(
      `${action.op} ${network.name}`,
      () => (action.op === "connect" ? client.connectNetwork(network.id, proxy.id, shown) : client.disconnectNetwork(network.id, proxy.id, shown)),
      { log, policy: context.retry },
    );
    if (outcome === "already") {
      pending.cancel(key);
      log.debug("network already as planned", { proxy: proxy.name, network: network.name, op: action.op });
      return false;
    }
  } catch (error) {
    pending.cancel(key);
    throw error;
  }
  log.info(action.op === "connect" ? "network joined" : "network left", { proxy: proxy.name, network: network.name, reason: action.why, result: "ok" });
  return true;
}
