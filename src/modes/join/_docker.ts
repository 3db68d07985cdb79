import type { DockerClient } from "../../docker/client.ts";

/** The calls join makes on an engine: the DockerClient methods it uses, so a test engine can offer just these. */
export type JoinDocker = Pick<DockerClient, "listContainers" | "listNetworks" | "inspectContainer" | "connectNetwork" | "disconnectNetwork">;
