import { DockernetError, errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { ApplyResult } from "./apply.ts";
import type { JoinAction } from "./plan.ts";

/** What to do when a network change still fails after its retries. */
export type FailurePolicy =
  /** `--once`: report it (the reconcile throws; the command exits 1). */
  | { kind: "report" }
  /** The daemon: stop everything and exit 1, so the service manager restarts it with a clean scan. */
  | { kind: "fail-fast"; fail(error: unknown): void }
  /** The daemon with `--keep-going`: log it, leave that change alone for a while, carry on. */
  | { kind: "keep-going"; cooldownMs?: number };

/** The error of the changes that failed; its code tells the driver that retrying the whole reconcile will not help. */
export function joinFailed(failures: ApplyResult["failures"]): DockernetError {
  return new DockernetError(failures.map((failure) => errorMessage(failure.error)).join("; "), {
    code: "JOIN_FAILED",
    cause: failures[0]?.error,
    hint: "dockernet join exits so that its service manager restarts it with a clean scan; --keep-going (join.keep_going) logs such failures and carries on",
  });
}

/**
 * With --keep-going, a change that failed is left alone for a while: trying it at every event
 * would hold every reconcile up by its retries (about 2 s) and log it again each time.
 */
export class Cooldown {
  readonly #until = new Map<string, number>();
  readonly #ms: number;
  readonly #log: Logger;

  constructor(ms: number, log: Logger) {
    this.#ms = ms;
    this.#log = log;
  }

  add(actions: JoinAction[]): void {
    for (const action of actions) this.#until.set(`${action.op} ${action.network.id}`, Date.now() + this.#ms);
  }

  /** The actions not cooling down. */
  filter(actions: JoinAction[]): JoinAction[] {
    const now = Date.now();
    return actions.filter((action) => {
      const key = `${action.op} ${action.network.id}`;
      const until = this.#until.get(key) ?? 0;
      if (until <= now) {
        this.#until.delete(key);
        return true;
      }
      this.#log.debug("skipping a change that failed recently", { network: action.network.name, op: action.op });
      return false;
    });
  }
}
