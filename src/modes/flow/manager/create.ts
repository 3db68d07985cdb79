/**
 * `create_container`: every check that needs no change first (limits, ports, the image, pulled
 * if allowed), then the count and the create one at a time, the container never without its
 * socket nor the socket directory without its container.
 */
import { rm } from "node:fs/promises";
import { SerialQueue } from "../../../core/serial-queue.ts";
import { activity, redactEnvironment } from "../protocol/activity.ts";
import { effectiveLimits, type Limits } from "../protocol/limits.ts";
import { FlowError } from "../protocol/replies.ts";
import type { Payload } from "../protocol/requests.ts";
import { checkPorts, ensureImage } from "./_admission.ts";
import type { ApiContext } from "./api.ts";

const shortId = (id: string) => id.slice(0, 12);

/** Creates the manager's containers, one at a time. */
export class ContainerCreator {
  readonly #context: ApiContext;
  readonly #creates = new SerialQueue();

  constructor(context: ApiContext) {
    this.#context = context;
  }

  /** Creates a container from a validated payload; resolves with the reply's data ({id, short_id, name, state}). */
  async create(payload: Payload<"create_container">): Promise<unknown> {
    const { owned, client, config, announce } = this.#context;
    // Every check that needs no change first: a refused request leaves nothing behind.
    const limits = effectiveLimits(payload.limits, config.default_limits, config.max_limits);
    await checkPorts(client, payload.ports, config.publish_address);
    await ensureImage(client, payload.image, { pull: config.pull, tell: (entry) => announce.activity(entry) });
    // Counted and created one at a time, so that two creates at the limit do not both pass.
    const id = await this.#creates.run(async () => {
      const count = (await owned.list()).length;
      if (count >= config.max_containers) {
        throw new FlowError("forbidden", `this server has ${count} containers, its maximum (flow.max_containers = ${config.max_containers})`, { field: "flow.max_containers", max: config.max_containers });
      }
      return await this.#withSocket(payload, limits);
    });
    const state = await client.inspectState(id);
    const container = { id, name: state?.name ?? payload.name ?? shortId(id) };
    announce.activity(
      activity("created", container, `created ${container.name} from ${payload.image}`, {
        image: payload.image,
        environment: redactEnvironment(payload.environment),
        ports: payload.ports ?? {},
        volumes: Object.keys(payload.volumes ?? {}),
        limits,
      }),
    );
    return { id, short_id: shortId(id), name: container.name, state: state?.state ?? "created" };
  }

  async #withSocket(payload: Payload<"create_container">, limits: Limits): Promise<string> {
    const { owned, hub, client } = this.#context;
    const dirName = hub.newDirName();
    let id: string | undefined;
    try {
      // Made by us (owner, modes) before Docker would make it for the bind mount.
      const hostDir = await hub.prepareDir(dirName);
      id = await owned.create(payload, dirName, hostDir, limits);
      // The socket is there before the container can start, so its agent finds it at once.
      await hub.open(id, dirName);
      return id;
    } catch (error) {
      // Nothing half-made: no container without its socket, no directory without its container.
      if (id !== undefined) await client.removeContainer(id).catch(() => {});
      if (id !== undefined) await hub.close(id, { removeDir: true }).catch(() => {});
      await rm(hub.hostDir(dirName), { recursive: true, force: true });
      throw error;
    }
  }
}
