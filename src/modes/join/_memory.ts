import { PendingChanges } from "./_pending.ts";
import { emptyHints, EnvCache, type ScanHints } from "./observe.ts";

/**
 * What the join daemon remembers between scans, owned in one place: the reconciler writes what
 * each scan found (`scanned`), the event handler reads it and notes what events said (`hints`),
 * and a container's destroy is forgotten here (`forget`).
 */
export class JoinMemory {
  /** Routing env var names per container (a container's environment never changes). */
  readonly envCache = new EnvCache();
  /** Network changes dockernet asked for, so their events are not taken for someone else's. */
  readonly pending = new PendingChanges();
  /** What events said that the container list may not show yet. */
  readonly hints: ScanHints = emptyHints();
  #proxyId: string | undefined;
  #routable: ReadonlySet<string> = new Set();
  #bystanders: ReadonlySet<string> = new Set();

  /** The proxy's id as of the last scan; undefined when it was absent. */
  get proxyId(): string | undefined {
    return this.#proxyId;
  }

  /** Running and routable as of the last scan. */
  isRoutable(id: string): boolean {
    return this.#routable.has(id);
  }

  /** Running and not routable as of the last scan (labels and env never change, so its events never matter). */
  isBystander(id: string): boolean {
    return this.#bystanders.has(id);
  }

  /** What a scan found: the proxy, the running routable containers, the running others. */
  scanned(found: { proxyId: string | undefined; routable: Iterable<string>; bystanders: Iterable<string> }): void {
    this.#proxyId = found.proxyId;
    this.#routable = new Set(found.routable);
    this.#bystanders = new Set(found.bystanders);
  }

  /** A container started: unless it is a bystander, its network events count until a scan lists it. */
  started(id: string): void {
    this.hints.stopped.delete(id);
    if (!this.isBystander(id)) this.hints.started.add(id);
  }

  /** A container died: left out of scans while the list still shows it running. */
  died(id: string): void {
    this.hints.stopped.add(id);
    this.hints.started.delete(id);
  }

  /** A container's networks changed while it runs: the next scan inspects it. */
  networksChanged(id: string): void {
    this.hints.refresh.add(id);
  }

  /** Something only a full scan sees happened. */
  needFullScan(): void {
    this.hints.full = true;
  }

  /** Whether events about this container may matter: it is routable, or started and not yet scanned, and not dead. */
  mayMatter(id: string): boolean {
    return !this.isBystander(id) && !this.hints.stopped.has(id) && (this.isRoutable(id) || this.hints.started.has(id));
  }

  /** A container was removed: nothing about it is kept. */
  forget(id: string): void {
    for (const set of [this.hints.stopped, this.hints.started, this.hints.refresh]) set.delete(id);
    this.envCache.forget(id);
  }
}
