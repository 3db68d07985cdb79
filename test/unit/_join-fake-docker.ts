import type { DockernetError } from "../../src/core/errors.ts";
import { apiError } from "../../src/docker/client.ts";
import { parseDockerHost } from "../../src/docker/host.ts";
import type { ContainerSummary, NetworkSummary, ObservedContainer } from "../../src/docker/types.ts";
import type { JoinDocker } from "../../src/modes/join/_docker.ts";

export { fakeLogger } from "../support/fake-logger.ts";

interface FakeContainer {
  id: string;
  name: string;
  running: boolean;
  labels: Record<string, string>;
  env: string[];
  networks: string[];
  networkMode: string;
}

const connection = parseDockerHost("unix:///var/run/docker.sock");

/**
 * An engine's failure as DockerClient reports it: the client's own `apiError` turns what
 * docker-modem throws (a status code and Docker's message, or a refused connection) into the
 * DockernetError retry decisions read, so the fake's errors mean what the real ones do.
 */
export function engineError(what: string, status: 500 | 400 | 403 | "no answer", message: string): DockernetError {
  const raw = status === "no answer" ? Object.assign(new Error(message), { code: "ECONNREFUSED" }) : Object.assign(new Error(message), { statusCode: status, json: { message } });
  return apiError(connection, what, raw);
}

/**
 * An in-memory engine with the DockerClient methods join uses, counting calls. Networks are
 * named by id (`web` has id `web`). `failConnect` makes connects to a network fail with a 5xx,
 * `rejectConnect` with a 403; `failLists` makes the list calls fail as an engine that does not answer.
 */
export class FakeDocker implements JoinDocker {
  readonly containers = new Map<string, FakeContainer>();
  readonly networks: NetworkSummary[] = [
    { id: "bridge", name: "bridge", driver: "bridge", internal: false },
    { id: "host", name: "host", driver: "host", internal: false },
  ];
  readonly calls: string[] = [];
  readonly failConnect = new Set<string>();
  readonly rejectConnect = new Set<string>();
  failLists = false;
  /** Resolves each list call; tests hold it to keep a scan in flight. */
  gate: Promise<void> = Promise.resolve();

  addNetwork(name: string, driver = "bridge"): void {
    this.networks.push({ id: name, name, driver, internal: false });
  }

  add(name: string, options: Partial<Omit<FakeContainer, "id" | "name">> = {}): FakeContainer {
    const container = { id: `${name}-id`, name, running: true, labels: {}, env: [], networks: ["bridge"], networkMode: "default", ...options };
    this.containers.set(container.id, container);
    return container;
  }

  asClient(): JoinDocker {
    return this;
  }

  async listContainers(options: { id?: string[] } = {}): Promise<ContainerSummary[]> {
    this.calls.push(options.id ? `list containers ${options.id.join(",")}` : "list containers");
    await this.gate;
    if (this.failLists) throw engineError("list containers", "no answer", "connect ECONNREFUSED /var/run/docker.sock");
    return [...this.containers.values()]
      .filter((c) => c.running && (!options.id || options.id.includes(c.id)))
      .map((c) => ({ id: c.id, name: c.name, labels: c.labels, running: true, image: "app", state: "running", status: "Up", created: "2026-01-01T00:00:00.000Z", networkMode: c.networkMode, networks: c.networks.map((n) => ({ name: n, networkId: n })) }));
  }

  async listNetworks(): Promise<NetworkSummary[]> {
    this.calls.push("list networks");
    if (this.failLists) throw engineError("list networks", "no answer", "connect ECONNREFUSED /var/run/docker.sock");
    return [...this.networks];
  }

  async inspectContainer(idOrName: string): Promise<ObservedContainer | undefined> {
    this.calls.push(`inspect ${idOrName}`);
    const c = this.containers.get(idOrName) ?? [...this.containers.values()].find((entry) => entry.name === idOrName);
    if (!c) return undefined;
    return { id: c.id, name: c.name, running: c.running, pid: 1, labels: c.labels, env: c.env, networks: c.networks.map((n) => ({ name: n, networkId: n })), networkMode: c.networkMode, published: [] } as ObservedContainer;
  }

  async connectNetwork(network: string, container: string): Promise<"connected" | "already"> {
    this.calls.push(`connect ${network}`);
    const what = `connect container ${this.containers.get(container)?.name ?? container} to network ${network}`;
    if (this.failConnect.has(network)) throw engineError(what, 500, `no available IPv4 addresses on ${network}`);
    if (this.rejectConnect.has(network)) throw engineError(what, 403, "operation not permitted on a swarm-scoped network");
    const c = this.containers.get(container);
    if (!c || c.networks.includes(network)) return "already";
    c.networks.push(network);
    return "connected";
  }

  async disconnectNetwork(network: string, container: string): Promise<"disconnected" | "already"> {
    this.calls.push(`disconnect ${network}`);
    const c = this.containers.get(container);
    if (!c?.networks.includes(network)) return "already";
    c.networks = c.networks.filter((n) => n !== network);
    return "disconnected";
  }
}
