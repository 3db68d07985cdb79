import { errorMessage } from "../../../core/errors.ts";
import type { Logger } from "../../../core/logger.ts";
import type { DockerClient } from "../../../docker/client.ts";
import type { BoundPort } from "../../../docker/types.ts";
import { activity, type Activity } from "../protocol/activity.ts";
import { MessageDigest } from "./_message-digest.ts";
import { ChannelError, type ChannelHub } from "./channel.ts";
import type { FlowConfig } from "../config.ts";
import type { OwnedContainers } from "./containers.ts";
import { FlowError } from "../protocol/replies.ts";
import { KeyedSerialQueue } from "../../../core/serial-queue.ts";
import { parseOwner, readCode, replaceCode } from "./code-update.ts";
import { ContainerCreator } from "./create.ts";
import { followLines, tailLines } from "./logs.ts";
import { underRoots } from "./paths.ts";
import { parsePayload, type Payload, type RequestName } from "../protocol/requests.ts";

/** One connected client, as the handlers need it (the server implements it over Socket.IO). */
export interface Session {
  /** Receives a container's unsolicited messages. */
  join(containerId: string): void;
  leave(containerId: string): void;
  /** Sends a `log` line to this client only, within its budget (past it the line is dropped and counted). */
  sendLog(container: { id: string; name: string }, data: unknown): void;
  /** Runs `stop` when the client disconnects; returns what cancels that. */
  onClose(stop: () => void): () => void;
  /** Whether the client is still connected. */
  connected(): boolean;
}

/** Where the handlers announce what happened. */
export interface Announcer {
  activity(entry: Activity): void;
}

export interface ApiContext {
  client: DockerClient;
  config: FlowConfig;
  log: Logger;
  owned: OwnedContainers;
  hub: ChannelHub;
  announce: Announcer;
}

const shortId = (id: string) => id.slice(0, 12);

/** Lines `logs` returns when the request names no `tail`. */
const defaultTail = 1000;

function uptimeSeconds(startedAt: string | undefined): number {
  if (startedAt === undefined) return 0;
  return Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000));
}

/**
 * `ports`: the host ports a container is bound to, Docker's choice included (`"80/tcp": null`
 * asked for any); left out while it has none, so a reply without ports keeps its old shape.
 */
function hostPorts(bound: readonly BoundPort[] | undefined): { ports?: { port: string; host_ip: string; host_port: number }[] } {
  if (bound === undefined || bound.length === 0) return {};
  return { ports: bound.map(({ port, hostIp, hostPort }) => ({ port, host_ip: hostIp, host_port: hostPort })) };
}

/** A channel failure as the API names it. */
function channelFailure(error: unknown, container: { id: string; name: string }): unknown {
  // The one failure a request itself causes: framed, it is over the 1 MiB a frame may hold.
  if (!(error instanceof ChannelError)) return new FlowError("validation_error", `message: ${errorMessage(error)}`, { field: "message" });
  const details = { container_id: container.id, name: container.name };
  if (error.kind === "timeout") return new FlowError("timeout", `container ${container.name} did not answer in time`, details);
  // The socket worked: the container itself said no, which is its own kind of failure.
  if (error.kind === "remote_error") return new FlowError("container_error", `container ${container.name} answered with an error: ${error.message}`, { ...details, remote: true });
  if (error.kind === "not_connected") return new FlowError("socket_error", `container ${container.name} has no agent connected to its socket`, details);
  return new FlowError("socket_error", `container ${container.name}: the connection to its agent was lost (${error.message})`, details);
}

/**
 * The API's requests. Each parses its payload first (a bad one changes nothing), looks the
 * container up among the manager's own, acts, announces the activity and answers.
 */
export class FlowApi implements AsyncDisposable {
  readonly #context: ApiContext;
  readonly #messages: MessageDigest;
  readonly #creator: ContainerCreator;
  readonly #updates = new KeyedSerialQueue();

  constructor(context: ApiContext) {
    this.#context = context;
    this.#messages = new MessageDigest((entry) => context.announce.activity(entry));
    this.#creator = new ContainerCreator(context);
  }

  /** Tells the message activity still pending (at stop). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#messages.flushAll();
  }

  /** Runs one request; rejects with FlowError (or a Docker error) for the failure reply. */
  async handle(request: RequestName, payload: unknown, session: Session): Promise<unknown> {
    switch (request) {
      case "create_container":
        return this.#creator.create(parsePayload(request, payload));
      case "start_container":
        return this.#lifecycle(parsePayload(request, payload), "started", (client, id) => client.startContainer(id));
      case "stop_container":
        return this.#lifecycle(parsePayload(request, payload), "stopped", (client, id) => client.stopContainer(id));
      case "restart_container":
        return this.#lifecycle(parsePayload(request, payload), "restarted", (client, id) => client.restartContainer(id));
      case "delete_container":
        return this.#delete(parsePayload(request, payload));
      case "update_container":
        return this.#update(parsePayload(request, payload));
      case "send_message":
        return this.#send(parsePayload(request, payload));
      case "get_status":
        return this.#status(parsePayload(request, payload));
      case "list_containers":
        parsePayload(request, payload);
        return this.#list();
      case "subscribe":
      case "unsubscribe":
        return this.#subscription(request, parsePayload(request, payload), session);
      case "logs":
        return this.#logs(parsePayload(request, payload), session);
    }
  }

  async #lifecycle(payload: { container_id: string }, kind: "started" | "stopped" | "restarted", act: (client: DockerClient, id: string) => Promise<void>): Promise<unknown> {
    const { owned, client, announce } = this.#context;
    const container = await owned.resolve(payload.container_id);
    await act(client, container.id).catch((error: unknown) => {
      // A host port taken since the create (by a process or another container): the client's conflict.
      const taken = /Bind for (\S+) failed: port is already allocated|listen \w+ (\S+): bind: address already in use/.exec(errorMessage(error));
      if (taken) throw new FlowError("conflict", `container ${container.name}: host port ${taken[1] ?? taken[2]} is in use`, { container_id: container.id, address: taken[1] ?? taken[2] });
      throw error;
    });
    const state = await client.inspectState(container.id);
    announce.activity(activity(kind, container, `${kind} ${container.name}`));
    return { id: container.id, name: container.name, state: state?.state ?? "removed" };
  }

  async #delete(payload: { container_id: string }): Promise<unknown> {
    const { owned, client, hub, announce } = this.#context;
    const container = await owned.resolve(payload.container_id);
    await client.removeContainer(container.id);
    owned.forget(container.id);
    await hub.close(container.id, { removeDir: true });
    announce.activity(activity("deleted", container, `deleted ${container.name}`));
    return { id: container.id, name: container.name, deleted: true };
  }

  async #update(payload: Payload<"update_container">): Promise<unknown> {
    const { owned, client, config, announce, log } = this.#context;
    const container = await owned.resolve(payload.container_id);
    // One update of a container at a time: two at once would mix their trees.
    return await this.#updates.run(container.id, async () => {
      const source = await underRoots(payload.code_path, config.code_roots, "code_path", "--code-root");
      const entries = await readCode(source);
      // The swap runs in the container: a stopped one is started for it, and stopped again on failure.
      const wasRunning = (await client.inspectState(container.id))?.running === true;
      if (!wasRunning) await client.startContainer(container.id);
      try {
        await replaceCode(client, container.id, { entries, codeDir: config.code_dir, owner: parseOwner(config.code_owner), log });
      } catch (error) {
        if (!wasRunning) await client.stopContainer(container.id).catch(() => {});
        throw error;
      }
      await client.restartContainer(container.id);
      const state = await client.inspectState(container.id);
      announce.activity(activity("updated", container, `updated ${container.name}: code in ${config.code_dir}, restarted`, { code_dir: config.code_dir }));
      return { id: container.id, name: container.name, state: state?.state ?? "unknown", code_dir: config.code_dir };
    });
  }

  async #send(payload: Payload<"send_message">): Promise<unknown> {
    const { owned, hub, config } = this.#context;
    const container = await owned.resolve(payload.container_id);
    const timeout = payload.timeout_ms ?? config.request_timeout;
    const answer = await hub.request(container.id, payload.message.command, payload.message.data, timeout).catch((error: unknown) => {
      throw channelFailure(error, container);
    });
    this.#messages.answered(container, payload.message.command);
    return answer;
  }

  async #status(payload: { container_id: string }): Promise<unknown> {
    const { owned, client, hub } = this.#context;
    const container = await owned.resolve(payload.container_id);
    const state = await client.inspectState(container.id);
    if (state === undefined) throw new FlowError("not_found", `container ${container.name} is gone`, { container_id: container.id });
    const usage = state.running ? await client.statsOnce(container.id) : { cpu_percent: 0, memory: { used: 0, limit: 0 } };
    return {
      id: container.id,
      short_id: shortId(container.id),
      name: container.name,
      image: state.image,
      state: state.state,
      health: state.health,
      uptime_s: uptimeSeconds(state.startedAt),
      ...hostPorts(state.bound),
      ...hub.status(container.id),
      ...usage,
    };
  }

  async #list(): Promise<unknown> {
    const { owned, hub } = this.#context;
    return (await owned.list()).map((container) => ({
      id: container.id,
      short_id: shortId(container.id),
      name: container.name,
      image: container.image,
      state: container.state,
      status: container.status,
      created: container.created,
      ...hostPorts(container.bound),
      ...hub.status(container.id),
    }));
  }

  async #subscription(request: "subscribe" | "unsubscribe", payload: { container_id: string }, session: Session): Promise<unknown> {
    const container = await this.#context.owned.resolve(payload.container_id);
    if (request === "subscribe") session.join(container.id);
    else session.leave(container.id);
    return { id: container.id, name: container.name, subscribed: request === "subscribe" };
  }

  async #logs(payload: Payload<"logs">, session: Session): Promise<unknown> {
    const { owned, client } = this.#context;
    const container = await owned.resolve(payload.container_id);
    const follow = payload.follow === true;
    // Without a tail, the last 1000 lines: a whole log can be larger than any reply should be.
    const stream = await client.containerLogs(container.id, { tail: payload.tail ?? defaultTail, follow });
    if (follow) {
      // The client may have left while the stream opened: then it is closed at once.
      if (!session.connected()) {
        (stream as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
        return { id: container.id, name: container.name, following: false };
      }
      followLines(stream, container, session);
      return { id: container.id, name: container.name, following: true };
    }
    return { id: container.id, name: container.name, ...(await tailLines(stream)) };
  }
}
