/**
 * flow beyond bun's own source run: the same source under Deno serves the API round trip, and
 * the compiled binary serves Socket.IO over HTTP long-polling as well as WebSocket.
 */
import { afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile, readlink, realpath } from "node:fs/promises";
import { join } from "node:path";
import type { Socket } from "socket.io-client";
import { repoRoot } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";
import { AGENT_IMAGE, BINARY, RELAY_COMMAND, buildAgentImage } from "../support/flow-image.ts";
import { FlowServer, allContainerIds, ok, removeFlowContainers, waitConnected, type Listed } from "../support/flow-server.ts";

setDefaultTimeout(120_000);

const engine = useTestEngine({ name: "dntest-flowdeno", subnet: 116 });
// The executable itself, not node_modules/.bin/deno: that is a node script that runs deno with
// spawnSync and does not pass signals on, so stopping it (SIGTERM) would leave deno running.
const denoExecutable = join(repoRoot, "node_modules/deno/deno");
const deno: [string, string[]] = [denoExecutable, ["run", "-A", join(repoRoot, "src/main.ts")]];
const servers: FlowServer[] = [];

beforeAll(async () => {
  if (!existsSync(denoExecutable)) throw new Error(`${denoExecutable} not found: run npm install (the deno package is a devDependency)`);
  await buildAgentImage(engine);
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server[Symbol.asyncDispose]();
  await removeFlowContainers(engine);
});

/** Starts a server with `program` and keeps it for the cleanup. */
async function serve(program: [string, string[]], env: Record<string, string> = {}): Promise<FlowServer> {
  const server = await FlowServer.start(engine, { program, env });
  servers.push(server);
  return server;
}

/** The executable a process runs. */
const executableOf = (pid: number) => readlink(`/proc/${pid}/exe`);

/** create, start, ping through the agent, delete: the API's round trip. */
async function roundTrip(client: Socket): Promise<void> {
  const created = await ok<{ id: string }>(client, "create_container", { image: AGENT_IMAGE, name: "flow-rt", command: RELAY_COMMAND });
  expect(await ok(client, "start_container", { container_id: "flow-rt" })).toMatchObject({ state: "running" });
  await waitConnected(client, created.id);
  expect(await ok(client, "send_message", { container_id: "flow-rt", message: { command: "ping" } })).toMatchObject({ pong: true });
  expect(await ok(client, "send_message", { container_id: "flow-rt", message: { command: "relayed" } })).toEqual({ command: "relayed", from: "relay" });
  expect(await ok(client, "delete_container", { container_id: "flow-rt" })).toMatchObject({ deleted: true });
  expect((await ok<Listed[]>(client, "list_containers", {})).map((entry) => entry.id)).not.toContain(created.id);
  expect(await allContainerIds(engine)).not.toContain(created.id);
}

/** list_containers over one transport only; checks that the transport is really the one used. */
async function listOver(server: FlowServer, transport: "polling" | "websocket"): Promise<Listed[]> {
  const client = await server.client({ transports: [transport], upgrade: false });
  expect(client.io.engine.transport.name).toBe(transport);
  const listed = await ok<Listed[]>(client, "list_containers", {});
  expect(client.io.engine.transport.name).toBe(transport);
  client.close();
  return listed;
}

/** The page and its files, as the server reads them: from the source tree, or embedded in the binary. */
async function expectPage(server: FlowServer): Promise<void> {
  const page = await fetch(`${server.url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-security-policy")).toContain("script-src 'nonce-");
  expect(await page.text()).toContain("<title>dockernet flow</title>");
  const files = { "page.js": "src/modes/flow/page/page.js", "page.css": "src/modes/flow/page/page.css", "socket.io.min.js": "node_modules/socket.io-client/dist/socket.io.min.js" };
  for (const [name, source] of Object.entries(files)) expect(await (await fetch(`${server.url}/page/${name}`)).text()).toBe(await readFile(join(repoRoot, source), "utf8"));
}

describe("flow under Deno", () => {
  test("deno run -A src/main.ts flow serve: create, start, send_message through the agent, delete", async () => {
    const server = await serve(deno, { DENO_NO_UPDATE_CHECK: "1" });
    // Its real path: node_modules may be a link (a git worktree sharing another's).
    expect(await executableOf(server.daemon.pid)).toBe(await realpath(denoExecutable));
    await roundTrip(await server.client());
    await expectPage(server);
    // Both transports here too.
    await ok(await server.client(), "create_container", { image: AGENT_IMAGE, name: "flow-listed" });
    for (const transport of ["polling", "websocket"] as const) expect((await listOver(server, transport)).map((entry) => entry.name)).toEqual(["flow-listed"]);
    expect(server.daemon.find((line) => line.level === "error")).toEqual([]);
    expect(await server.stop()).toBe(0); // SIGTERM: a clean stop under Deno too
  });
});

describe("the compiled binary", () => {
  test("dist/dockernet flow serve answers over HTTP long-polling as well as WebSocket", async () => {
    const server = await serve([BINARY, []]);
    expect(await executableOf(server.daemon.pid)).toBe(BINARY);
    await expectPage(server);
    const created = await ok<{ id: string }>(await server.client(), "create_container", { image: AGENT_IMAGE, name: "flow-listed", command: RELAY_COMMAND });
    for (const transport of ["polling", "websocket"] as const) expect((await listOver(server, transport)).map((entry) => entry.id)).toEqual([created.id]);
    // The whole round trip over long-polling.
    await roundTrip(await server.client({ transports: ["polling"], upgrade: false }));
    expect(await server.stop()).toBe(0);
  });
});
