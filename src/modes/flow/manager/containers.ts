import { posix } from "node:path";
import type { Logger } from "../../../core/logger.ts";
import type { DockerClient } from "../../../docker/client.ts";
import type { BoundPort, CreateSpec } from "../../../docker/types.ts";
import { ownerLabel, socketDirLabel, socketInside, socketMount, type FlowConfig } from "../config.ts";
import { FlowError } from "../protocol/replies.ts";
import { underRoots } from "./paths.ts";
import type { Limits } from "../protocol/limits.ts";
import type { Payload } from "../protocol/requests.ts";

/** One of the manager's containers, as the list shows it. */
export interface Owned {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  created: string;
  /** Its directory under `flow.socket_dir`. */
  dirName?: string;
  /** Host ports it is bound to now (list_containers shows Docker's choice). */
  bound?: BoundPort[];
}

/**
 * The manager's own containers: those labelled with its instance. Every lookup goes through
 * here, so a container it did not create is `not_found` whatever its id or name.
 */
export class OwnedContainers {
  readonly #client: DockerClient;
  readonly #config: FlowConfig;
  #known = new Map<string, Owned>();

  constructor(context: { client: DockerClient; config: FlowConfig; log: Logger }) {
    this.#client = context.client;
    this.#config = context.config;
  }

  /** The owner label filter, `key=value`. */
  get label(): string {
    return `${ownerLabel}=${this.#config.instance}`;
  }

  /** Every container of the manager, listed now (and remembered for `resolve`). */
  async list(): Promise<Owned[]> {
    const listed = await this.#client.listContainers({ all: true, label: [this.label] });
    const owned = listed.map(({ labels, ...entry }) => ({ ...entry, ...(labels[socketDirLabel] ? { dirName: labels[socketDirLabel] } : {}) }));
    this.#known = new Map(owned.map((container) => [container.id, container]));
    return owned;
  }

  /**
   * A container by full id, a unique id prefix of 12 or more characters, or name; not_found
   * otherwise. Looked up in what the last list found (a request does not cost a list call), and
   * listed again on a miss; a removed or renamed container is forgotten from its event.
   */
  async resolve(idOrName: string): Promise<Owned> {
    // A full id, as most requests give it: no scan.
    const known = this.#known.get(idOrName);
    if (known) return known;
    const found = this.#match([...this.#known.values()], idOrName) ?? this.#match(await this.list(), idOrName);
    if (found instanceof FlowError) throw found;
    if (found) return found;
    throw new FlowError("not_found", `container ${JSON.stringify(idOrName)}: no container of this manager has this id or name`, { container_id: idOrName });
  }

  /** Forgets a container until the next list (it was removed). */
  forget(id: string): void {
    this.#known.delete(id);
  }

  /** A container was renamed: its old name resolves no more. */
  renamed(id: string, name: string): void {
    const known = this.#known.get(id);
    if (known) this.#known.set(id, { ...known, name });
  }

  /** A container's name as last seen, for logs and events. */
  nameOf(id: string): string {
    return this.#known.get(id)?.name ?? id.slice(0, 12);
  }

  #match(owned: Owned[], idOrName: string): Owned | FlowError | undefined {
    const exact = owned.find((container) => container.id === idOrName || container.name === idOrName);
    if (exact) return exact;
    const prefixed = idOrName.length >= 12 ? owned.filter((container) => container.id.startsWith(idOrName)) : [];
    if (prefixed.length > 1) return new FlowError("not_found", `container ${JSON.stringify(idOrName)}: the id prefix matches several of the manager's containers`, { container_id: idOrName });
    return prefixed[0];
  }

  /** Creates a container from a validated payload, its socket directory mounted; resolves with its id. */
  async create(payload: Payload<"create_container">, dirName: string, hostDir: string, limits: Limits): Promise<string> {
    // Read-only: the container connects to its socket but can change nothing in the directory.
    const binds = [`${hostDir}:${socketMount}:ro`];
    for (const [host, target] of Object.entries(payload.volumes ?? {})) {
      // Normalised as Docker will: `/run//dockernet-flow` or `/run/./dockernet-flow` is the socket's place too.
      const bind = posix.normalize(typeof target === "string" ? target : target.bind);
      const mode = typeof target === "string" ? "rw" : (target.mode ?? "rw");
      if (bind === socketMount || bind.startsWith(`${socketMount}/`)) {
        throw new FlowError("validation_error", `volumes: ${bind} is where the manager's socket is mounted`, { field: `volumes.${host}` });
      }
      const real = await underRoots(host, this.#config.volume_roots, `volumes.${host}`, "--volume-root", { childOnly: true });
      // The request's path has no colon (checked at the edge); where a link under the root leads might.
      if (real.includes(":")) throw new FlowError("validation_error", `volumes.${host}: the directory it leads to has a colon in its name, which Docker's bind would read as a separator`, { field: `volumes.${host}` });
      binds.push(`${real}:${bind}:${mode}`);
    }
    const environment = Object.entries(payload.environment ?? {}).map(([key, value]) => `${key}=${value}`);
    const spec: CreateSpec = {
      ...(payload.name ? { name: payload.name } : {}),
      image: payload.image,
      env: [...environment, `DOCKERNET_FLOW_SOCKET=${socketInside}`],
      ...(payload.command ? { cmd: payload.command } : {}),
      ...(payload.working_dir ? { workingDir: payload.working_dir } : {}),
      labels: { [ownerLabel]: this.#config.instance, [socketDirLabel]: dirName },
      binds,
      limits,
      ports: Object.entries(payload.ports ?? {}).map(([key, hostPort]) => {
        const [port, proto] = key.split("/");
        return { port: Number(port), proto: proto === "udp" ? "udp" : "tcp", hostIp: this.#config.publish_address, ...(hostPort ? { hostPort } : {}) };
      }),
    };
    return await this.#client.createContainer(spec);
  }
}
