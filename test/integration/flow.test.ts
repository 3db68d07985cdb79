/**
 * `dockernet flow serve` against a throwaway engine, with real containers running the reference
 * agent (the compiled binary in `dockernet-test:agent`), driven by socket.io clients as a program
 * would, and by the compiled binary's `flow call` and `flow watch` as a script would.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Socket } from "socket.io-client";
import { exec, sleep } from "../support/_exec.ts";
import { dockernet, waitFor } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";
import { AGENT_IMAGE, BINARY, BINARY_IN_IMAGE, RELAY_COMMAND, buildAgentImage } from "../support/flow-image.ts";
import {
  OWNER_LABEL,
  FlowServer,
  allContainerIds,
  collect,
  connect,
  failure,
  ok,
  request,
  useFlowCleanup,
  waitConnected,
  type Listed,
} from "../support/flow-server.ts";
import { freePort } from "../support/ports.ts";

setDefaultTimeout(120_000);

const engine = useTestEngine({ name: "dntest-flow", subnet: 114 });
const { cleanups, scratch } = useFlowCleanup(engine, "dnflowt-");

beforeAll(async () => {
  await buildAgentImage(engine);
});

/** What create_container answers. */
interface Created {
  id: string;
  short_id: string;
  name: string;
  state: string;
}

/** Creates and starts an agent container (the relay behind it unless `command` says otherwise) and waits for its agent. */
async function runAgent(client: Socket, name: string, spec: Record<string, unknown> = {}): Promise<Created> {
  const created = await ok<Created>(client, "create_container", { image: AGENT_IMAGE, name, command: RELAY_COMMAND, ...spec });
  await ok(client, "start_container", { container_id: created.id });
  await waitConnected(client, created.id);
  return created;
}

/** send_message that must succeed: resolves with the container's answer. */
const ask = <T = Record<string, unknown>>(client: Socket, container: string, command: string) => ok<T>(client, "send_message", { container_id: container, message: { command } });

async function inspect(id: string): Promise<Record<string, any>> {
  return (JSON.parse((await engine.docker(["inspect", id])).stdout) as Record<string, any>[])[0] as Record<string, any>;
}

/** Waits until an entry of `list` (filled by {@link collect}) matches; resolves with it. */
const waitForEntry = <T>(what: string, list: T[], predicate: (entry: T) => boolean, timeoutMs = 15_000) =>
  waitFor(what, () => list.find(predicate), timeoutMs);

describe("the requests", () => {
  test("each request answers {ok: true, data} and does what it says", async () => {
    const codeRoot = await scratch();
    await mkdir(join(codeRoot, "v1"));
    await writeFile(join(codeRoot, "v1/code.sh"), "echo v1\n");
    await using flow = await FlowServer.start(engine, { args: ["--code-root", codeRoot] });
    const client = await flow.client();

    const created = await ok<Created>(client, "create_container", {
      image: AGENT_IMAGE,
      name: "flow-1",
      environment: { GREETING: "hello" },
      ports: { "8080/tcp": null },
      command: RELAY_COMMAND,
      working_dir: "/tmp",
    });
    expect(created).toEqual({ id: expect.stringMatching(/^[0-9a-f]{64}$/), short_id: created.id.slice(0, 12), name: "flow-1", state: "created" });
    // What Docker was asked for: the manager's label, its socket directory alone, loopback ports, no privileges.
    const made = await inspect(created.id);
    expect(made.Config.Labels).toMatchObject({ [OWNER_LABEL]: "default" });
    expect(made.Config.Env).toEqual(expect.arrayContaining(["GREETING=hello", "DOCKERNET_FLOW_SOCKET=/run/dockernet-flow/flow.sock"]));
    expect(made.Config.Cmd).toEqual(RELAY_COMMAND);
    expect(made.Config.WorkingDir).toBe("/tmp");
    expect(made.HostConfig.Binds).toEqual([expect.stringMatching(new RegExp(`^${flow.socketDir}/[0-9a-f]{16}:/run/dockernet-flow:ro$`))]);
    expect(made.HostConfig.PortBindings).toEqual({ "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] });
    expect(made.HostConfig).toMatchObject({ Privileged: false, CapAdd: [], Devices: [], NetworkMode: "default", PidMode: "", IpcMode: "private", UsernsMode: "" });

    expect(await ok(client, "start_container", { container_id: "flow-1" })).toEqual({ id: created.id, name: "flow-1", state: "running" });
    await waitConnected(client, created.id);
    // The container sees its own socket and nothing else of the socket dir.
    const mounted = await engine.docker(["exec", created.id, "ls", "/run/dockernet-flow"]);
    expect(mounted.stdout.split("\n").filter(Boolean).sort()).toEqual([`${created.short_id}.sock`, "flow.sock"]);

    expect(await ask(client, created.short_id, "ping")).toMatchObject({ pong: true });
    expect(await ok(client, "get_status", { container_id: created.id })).toMatchObject({ id: created.id, name: "flow-1", state: "running", socket_connected: true });
    const listed = await ok<Listed[]>(client, "list_containers", {});
    expect(listed).toEqual([expect.objectContaining({ id: created.id, short_id: created.short_id, name: "flow-1", image: AGENT_IMAGE, state: "running", socket_connected: true })]);
    expect(await ok<Listed[]>(client, "list_containers")).toHaveLength(1); // no payload at all: {}
    expect(await ok(client, "subscribe", { container_id: "flow-1" })).toEqual({ id: created.id, name: "flow-1", subscribed: true });
    expect(await ok(client, "unsubscribe", { container_id: "flow-1" })).toEqual({ id: created.id, name: "flow-1", subscribed: false });

    // The agent says it connected on stderr: the log has it, in order, with its stream.
    const logs = await ok<{ lines: { stream: string; line: string }[] }>(client, "logs", { container_id: "flow-1", tail: 100 });
    expect(logs.lines.some((entry) => entry.stream === "stderr" && entry.line.includes("connected to the flow manager"))).toBe(true);
    expect((await ok<{ lines: unknown[] }>(client, "logs", { container_id: "flow-1", tail: 1 })).lines).toHaveLength(1);
    // follow: what the container writes from now on comes as `log` events (the relay writes to stderr on `say`).
    const followed = collect<{ container_id: string; name: string; stream: string; line: string }>(client, "log");
    expect(await ok(client, "logs", { container_id: "flow-1", tail: 0, follow: true })).toEqual({ id: created.id, name: "flow-1", following: true });
    await ask(client, "flow-1", "say");
    const said = await waitForEntry("the followed line", followed, (entry) => entry.line.includes("the relay says"));
    expect(said).toMatchObject({ container_id: created.id, name: "flow-1", stream: "stderr" });
    expect(followed.filter((entry) => entry.line.includes("connected to the flow manager"))).toEqual([]); // tail 0: nothing from before

    expect(await ok(client, "stop_container", { container_id: "flow-1" })).toEqual({ id: created.id, name: "flow-1", state: "exited" });
    expect(await ok(client, "restart_container", { container_id: "flow-1" })).toEqual({ id: created.id, name: "flow-1", state: "running" });

    expect(await ok(client, "update_container", { container_id: "flow-1", code_path: join(codeRoot, "v1") })).toEqual({ id: created.id, name: "flow-1", state: "running", code_dir: "/app" });
    expect((await engine.docker(["exec", created.id, "cat", "/app/code.sh"])).stdout).toBe("echo v1\n");

    const hostDir = (made.HostConfig.Binds[0] as string).split(":")[0] as string;
    expect(await ok(client, "delete_container", { container_id: "flow-1" })).toEqual({ id: created.id, name: "flow-1", deleted: true });
    expect(await ok<Listed[]>(client, "list_containers", {})).toEqual([]);
    expect(await allContainerIds(engine)).not.toContain(created.id);
    expect(await readdir(flow.socketDir)).not.toContain(hostDir.split("/").at(-1));
  });

  test("error cases: not_found, conflict, validation_error, forbidden, socket_error, timeout", async () => {
    await using flow = await FlowServer.start(engine);
    const client = await flow.client();
    const agent = await runAgent(client, "flow-1");
    const outsider = await engine.run("taken");

    const withId = ["start_container", "stop_container", "restart_container", "delete_container", "get_status", "subscribe", "unsubscribe", "logs"];
    for (const name of withId) {
      expect(await failure(client, name, { container_id: "no-such-container" })).toMatchObject({ error: true, error_type: "not_found", details: { container_id: "no-such-container" } });
      expect(await failure(client, name, {})).toMatchObject({ error_type: "validation_error", message: `${name}: container_id is required`, details: { field: "container_id" } });
    }
    expect(await failure(client, "send_message", { container_id: "no-such-container", message: { command: "ping" } })).toMatchObject({ error_type: "not_found" });
    expect(await failure(client, "update_container", { container_id: "no-such-container", code_path: "/tmp" })).toMatchObject({ error_type: "not_found" });

    // One failure shape, with a timestamp.
    const shape = await failure(client, "get_status", { container_id: "nope" });
    expect(Object.keys(shape).sort()).toEqual(["details", "error", "error_type", "message", "timestamp"]);
    expect(Date.now() - Date.parse(shape.timestamp)).toBeLessThan(60_000);

    // A name in use, by one of the manager's containers or by any other.
    expect(await failure(client, "create_container", { image: AGENT_IMAGE, name: "flow-1" })).toMatchObject({ error_type: "conflict", message: expect.stringContaining("already in use") });
    expect(await failure(client, "create_container", { image: AGENT_IMAGE, name: outsider.name })).toMatchObject({ error_type: "conflict" });
    expect(await failure(client, "create_container", { image: "no-such-image:1" })).toMatchObject({ error_type: "not_found", message: expect.stringContaining("no-such-image") });
    expect(await failure(client, "drop_everything", {})).toMatchObject({ error_type: "validation_error", message: 'unknown request "drop_everything"' });

    // Host paths: none allowed unless the server is told.
    expect(await failure(client, "create_container", { image: AGENT_IMAGE, volumes: { "/tmp": "/data" } })).toMatchObject({ error_type: "forbidden", details: { field: "volumes./tmp" } });
    expect(await failure(client, "update_container", { container_id: "flow-1", code_path: "/tmp" })).toMatchObject({ error_type: "forbidden", details: { field: "code_path" } });

    // What the container answers, or does not.
    expect(await failure(client, "send_message", { container_id: "flow-1", message: { command: "fail" } })).toMatchObject({ error_type: "container_error", message: expect.stringContaining("the relay refuses"), details: { remote: true } });
    const started = Date.now();
    expect(await failure(client, "send_message", { container_id: "flow-1", message: { command: "silent" }, timeout_ms: 300 })).toMatchObject({ error_type: "timeout" });
    expect(Date.now() - started).toBeLessThan(5000);
    // Starting what runs and stopping what is stopped change nothing and are no error (as `docker start` and `docker stop`).
    expect(await ok(client, "start_container", { container_id: "flow-1" })).toMatchObject({ state: "running" });
    await ok(client, "stop_container", { container_id: "flow-1" });
    expect(await ok(client, "stop_container", { container_id: "flow-1" })).toMatchObject({ state: "exited" });
    expect(await failure(client, "send_message", { container_id: "flow-1", message: { command: "ping" } })).toMatchObject({ error_type: "socket_error", message: expect.stringContaining("no agent connected") });
    expect(await ok(client, "get_status", { container_id: agent.id })).toMatchObject({ state: "exited", socket_connected: false });

    // A socket dir too long for sun_path is refused at start, naming it.
    const long = `/tmp/${"d".repeat(80)}`;
    const refused = await dockernet(engine, ["flow", "serve", "--listen", `127.0.0.1:${await freePort()}`, "--socket-dir", long, "--token-file", join(flow.dir, "token")]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`flow socket directory ${long} is too long`);
  });

  test("a container the manager did not create is not_found by id, prefix and name, and left alone", async () => {
    await using flow = await FlowServer.start(engine);
    const client = await flow.client();
    const outsider = await engine.run("outsider");
    const startedAt = (await inspect(outsider.id)).State.StartedAt;
    for (const reference of [outsider.id, outsider.id.slice(0, 12), outsider.id.slice(0, 20), "outsider"]) {
      for (const name of ["get_status", "start_container", "stop_container", "restart_container", "delete_container", "subscribe", "logs"]) {
        expect(await failure(client, name, { container_id: reference })).toMatchObject({ error_type: "not_found" });
      }
      expect(await failure(client, "send_message", { container_id: reference, message: { command: "ping" } })).toMatchObject({ error_type: "not_found" });
    }
    expect(await ok<Listed[]>(client, "list_containers", {})).toEqual([]);
    expect(await inspect(outsider.id)).toMatchObject({ State: { Running: true, StartedAt: startedAt }, RestartCount: 0 });
  });

  test("changes made outside the API reach clients, and a container removed outside loses its socket directory", async () => {
    await using flow = await FlowServer.start(engine);
    const client = await flow.client();
    const states = collect<{ id: string; name: string; state: string; action: string }>(client, "container_state");
    const activity = collect<{ kind: string; container_id: string; message: string }>(client, "activity");
    const agent = await runAgent(client, "flow-1");
    const dirs = await readdir(flow.socketDir);
    expect(dirs).toHaveLength(1);

    await engine.docker(["stop", "-t", "1", agent.id]);
    await waitForEntry("the stop", states, (entry) => entry.id === agent.id && entry.action === "stop" && entry.state === "exited");
    await waitForEntry("the die as activity", activity, (entry) => entry.kind === "actor_event" && entry.container_id === agent.id && entry.message === "flow-1: die (exit 0)");
    await engine.docker(["rm", agent.id]);
    await waitForEntry("the destroy", states, (entry) => entry.id === agent.id && entry.action === "destroy" && entry.state === "removed");
    await waitFor("its socket directory gone", async () => (await readdir(flow.socketDir)).length === 0);
    expect(await ok<Listed[]>(client, "list_containers", {})).toEqual([]);
    expect(await failure(client, "get_status", { container_id: agent.id })).toMatchObject({ error_type: "not_found" });
  });
});

describe("safety", () => {
  test("volume and code paths outside the roots are refused: outside, `..`, symlink escapes, a sibling with the same prefix", async () => {
    const base = await scratch();
    const volumes = join(base, "vol");
    const code = join(base, "code");
    const outside = join(base, "outside");
    for (const dir of [join(volumes, "data"), join(code, "app"), outside, `${volumes}-evil`, `${code}-evil`]) await mkdir(dir, { recursive: true });
    await writeFile(join(volumes, "data/hello.txt"), "inside\n");
    await writeFile(join(code, "app/code.sh"), "echo inside\n");
    await writeFile(join(outside, "secret.txt"), "outside\n");
    await symlink(outside, join(volumes, "escape"));
    await symlink(outside, join(code, "escape"));
    await symlink(join(volumes, "data"), join(volumes, "alias")); // a link that stays inside is fine
    await using flow = await FlowServer.start(engine, { args: ["--volume-root", volumes, "--code-root", code] });
    const client = await flow.client();
    const agent = await runAgent(client, "flow-1");
    const before = await allContainerIds(engine);

    // Also paths that do not exist: whether something exists outside the roots is not told either.
    const escapes = (root: string, sub: string) => [outside, join(outside, "secret.txt"), `${root}/../outside`, `${root}/${sub}/../../outside`, join(root, "escape"), `${root}-evil`, "/etc", "/", "/no/such/path", `${root}/../no-such`];
    for (const path of escapes(volumes, "data")) {
      const reply = await failure(client, "create_container", { image: AGENT_IMAGE, volumes: { [path]: "/data" } });
      expect(reply).toMatchObject({ error_type: "forbidden", details: { field: `volumes.${path}` } });
      if (path.endsWith("escape")) expect(JSON.stringify(reply)).not.toContain(outside); // where a link leads is not told
    }
    for (const path of escapes(code, "app")) {
      expect(await failure(client, "update_container", { container_id: "flow-1", code_path: path })).toMatchObject({ error_type: "forbidden", details: { field: "code_path" } });
    }
    expect(await failure(client, "create_container", { image: AGENT_IMAGE, volumes: { [join(volumes, "missing")]: "/data" } })).toMatchObject({ error_type: "not_found" });
    // A link to a directory whose name has a colon: Docker's `host:container:mode` cannot hold it.
    await mkdir(join(volumes, "a:b"));
    await symlink(join(volumes, "a:b"), join(volumes, "colon"));
    expect(await failure(client, "create_container", { image: AGENT_IMAGE, volumes: { [join(volumes, "colon")]: "/data" } })).toMatchObject({ error_type: "validation_error", details: { field: `volumes.${join(volumes, "colon")}` } });
    for (const bind of ["/run/dockernet-flow", "/run//dockernet-flow", "/run/./dockernet-flow/x"]) {
      expect(await failure(client, "create_container", { image: AGENT_IMAGE, volumes: { [join(volumes, "data")]: bind } })).toMatchObject({ error_type: "validation_error", message: expect.stringContaining("where the manager's socket is mounted") });
    }
    expect(await failure(client, "create_container", { image: AGENT_IMAGE, volumes: { "vol/data": "/data" } })).toMatchObject({ error_type: "validation_error", details: { field: "volumes.vol/data" } });
    // A volume is a directory directly inside a root: a container holding the root, or a parent of
    // another container's source, could swap that source for a link to / before its next start.
    await mkdir(join(volumes, "data/inner"), { recursive: true });
    for (const path of [volumes, join(volumes, "data/inner")]) {
      expect(await failure(client, "create_container", { image: AGENT_IMAGE, volumes: { [path]: "/data" } })).toMatchObject({ error_type: "forbidden", details: { field: `volumes.${path}` } });
    }
    expect(await allContainerIds(engine)).toEqual(before);
    expect((await engine.docker(["exec", agent.id, "ls", "/app"], { allowFail: true })).code).not.toBe(0);
    // The socket directory is mounted read-only: the container can connect, and change nothing there.
    expect((await inspect(agent.id)).HostConfig.Binds.some((bind: string) => bind.endsWith(":/run/dockernet-flow:ro"))).toBe(true);
    for (const change of ["rm -f /run/dockernet-flow/flow.sock", "mkdir /run/dockernet-flow/x", "ln -s / /run/dockernet-flow/y"]) {
      expect((await engine.docker(["exec", agent.id, "sh", "-c", change], { allowFail: true })).code).not.toBe(0);
    }

    // Inside the roots: mounted (at the link's real path) and copied in.
    const mounted = await runAgent(client, "flow-2", { volumes: { [join(volumes, "alias")]: { bind: "/data", mode: "ro" } } });
    expect((await engine.docker(["exec", mounted.id, "cat", "/data/hello.txt"])).stdout).toBe("inside\n");
    expect((await inspect(mounted.id)).HostConfig.Binds).toContain(`${join(volumes, "data")}:/data:ro`);
    expect((await engine.docker(["exec", mounted.id, "sh", "-c", "echo x > /data/x"], { allowFail: true })).code).not.toBe(0);
    await ok(client, "update_container", { container_id: "flow-1", code_path: `${code}/app/../app` });
    expect((await engine.docker(["exec", agent.id, "cat", "/app/code.sh"])).stdout).toBe("echo inside\n");
  });

  test("20 malformed payloads: each answered with validation_error naming the field, and nothing changes", async () => {
    await using flow = await FlowServer.start(engine);
    const client = await flow.client();
    const agent = await runAgent(client, "flow-1");
    // The relay says `hello` once at start, maybe after the agent connected: a request it answers
    // comes after it, so `last_communication` moves no more once that is answered.
    await ask(client, agent.id, "settle");
    const listed = await ok<Listed[]>(client, "list_containers", {});
    const before = await allContainerIds(engine);
    const secret = "hunter2-do-not-echo";

    const malformed: [request: string, payload: unknown, field: string][] = [
      ["create_container", {}, "image"],
      ["create_container", { image: 42 }, "image"],
      ["create_container", { image: "busybox; rm -rf /" }, "image"],
      ["create_container", { image: AGENT_IMAGE, name: "../escape" }, "name"],
      ["create_container", { image: AGENT_IMAGE, environment: { "BAD-NAME": "x" } }, "environment.BAD-NAME"],
      ["create_container", { image: AGENT_IMAGE, environment: { API_TOKEN: `${secret}\u0000` } }, "environment.API_TOKEN"],
      ["create_container", { image: AGENT_IMAGE, ports: { "80/sctp": 8080 } }, "ports.80/sctp"],
      ["create_container", { image: AGENT_IMAGE, ports: { "80/tcp": 70_000 } }, "ports.80/tcp"],
      ["create_container", { image: AGENT_IMAGE, command: "sh -c 'id'" }, "command"],
      ["create_container", { image: AGENT_IMAGE, privileged: true }, "privileged"],
      ["create_container", { image: AGENT_IMAGE, working_dir: "tmp" }, "working_dir"],
      ["create_container", "flow-1", "payload"],
      ["start_container", { container_id: 12 }, "container_id"],
      ["stop_container", { container_id: "a\nb" }, "container_id"],
      ["delete_container", { container_id: "x".repeat(200) }, "container_id"],
      ["send_message", { container_id: "flow-1", message: { data: {} } }, "message.command"],
      ["send_message", { container_id: "flow-1", message: { command: "ping" }, timeout_ms: -5 }, "timeout_ms"],
      ["logs", { container_id: "flow-1", tail: "10" }, "tail"],
      ["logs", { container_id: "flow-1", follow: "yes" }, "follow"],
      ["update_container", { container_id: "flow-1", code_path: "relative/path" }, "code_path"],
      ["list_containers", { all: true }, "all"],
      ["get_status", [], "payload"],
      ["list_containers", [], "payload"],
      ["send_message", { container_id: "flow-1", message: "ping" }, "message"],
    ];
    expect(malformed.length).toBeGreaterThanOrEqual(20);
    for (const [name, payload, field] of malformed) {
      const reply = await failure(client, name, payload);
      expect({ name, payload, reply }).toMatchObject({ reply: { error_type: "validation_error", details: { field } } });
      expect(reply.message).toStartWith(`${name}: ${field} `);
      expect(JSON.stringify(reply)).not.toContain(secret);
    }
    // Docker's `status` counts the uptime ("Up Less than a second", then "Up 1 second"): it may only
    // have grown; everything else, the start time included, is the same.
    const uptimeOnly = (entries: Listed[]) => entries.map((entry) => ({ ...entry, status: expect.stringMatching(/^Up /) }));
    expect(listed.every((entry) => /^Up /.test(entry.status))).toBe(true);
    expect(await ok<Listed[]>(client, "list_containers", {})).toEqual(uptimeOnly(listed));
    expect(await allContainerIds(engine)).toEqual(before);
  });

  test("without the token, or from a browser page elsewhere, a client is refused", async () => {
    await using flow = await FlowServer.start(engine);
    await expect(connect(flow.url, "not-the-token")).rejects.toThrow("unauthorized");
    await expect(connect(flow.url, undefined)).rejects.toThrow("unauthorized");
    await expect(connect(flow.url, `${flow.token}x`, { transports: ["polling"] })).rejects.toThrow("unauthorized");
    // The right token from another site's page: refused before the handshake, on both transports.
    await expect(connect(flow.url, flow.token, { extraHeaders: { origin: "http://evil.example" } })).rejects.toThrow();
    await expect(connect(flow.url, flow.token, { transports: ["polling"], extraHeaders: { origin: "http://evil.example" } })).rejects.toThrow();
    const handshake = (origin: string) => fetch(`${flow.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
    expect((await handshake("http://evil.example")).status).toBe(403);
    expect((await handshake(`http://localhost:${flow.port}`)).status).toBe(200);
    // The page's own origin, and programs (no Origin), with the token.
    (await connect(flow.url, flow.token, { extraHeaders: { origin: flow.url } })).close();
    const client = await flow.client();
    expect(await ok<Listed[]>(client, "list_containers", {})).toEqual([]);
    expect(flow.daemon.find((line) => line.msg === "refused a connection from another origin").length).toBeGreaterThanOrEqual(2);
  });

  test("a payload over 1 MiB closes that client's connection; the server serves the others", async () => {
    await using flow = await FlowServer.start(engine);
    const big = await flow.client();
    const other = await flow.client();
    const closed = new Promise<string>((resolve) => big.once("disconnect", resolve));
    const payload = { container_id: "flow-1", message: { command: "ping", data: "x".repeat(1024 * 1024) } };
    await expect(request(big, "send_message", payload, 10_000)).rejects.toThrow();
    expect(await closed).toEqual(expect.any(String));
    expect(await ok<Listed[]>(other, "list_containers", {})).toEqual([]);
  });

  test("secret-looking environment values are redacted in the activity feed", async () => {
    await using flow = await FlowServer.start(engine);
    const watcher = await flow.client();
    const activity = collect<{ kind: string; details?: { environment?: Record<string, string> } }>(watcher, "activity");
    const client = await flow.client();
    const environment = { API_TOKEN: "tok-123456", DB_PASSWORD: "pw-123456", client_secret: "sec-123456", SSH_KEY: "key-123456", MODE: "production" };
    await ok(client, "create_container", { image: AGENT_IMAGE, name: "flow-1", environment });
    const created = await waitForEntry("the created activity", activity, (entry) => entry.kind === "created");
    expect(created.details?.environment).toEqual({ API_TOKEN: "[redacted]", DB_PASSWORD: "[redacted]", client_secret: "[redacted]", SSH_KEY: "[redacted]", MODE: "production" });
    const seen = JSON.stringify(activity) + flow.daemon.stderr.join("\n");
    for (const value of ["tok-123456", "pw-123456", "sec-123456", "key-123456"]) expect(seen).not.toContain(value);
    // The container still gets them.
    expect((await inspect("flow-1")).Config.Env).toContain("API_TOKEN=tok-123456");
  });
});

describe("the container channel", () => {
  test("a message round trip: ping and dump answered by the agent, the rest by the CMD behind it", async () => {
    await using flow = await FlowServer.start(engine);
    const client = await flow.client();
    const activity = collect<{ kind: string; container_id: string; details?: { command?: string; commands?: string[] } }>(client, "activity");
    const agent = await runAgent(client, "flow-1");
    const before = await waitConnected(client, agent.id);

    expect(await ask(client, "flow-1", "ping")).toEqual({ pong: true, time: expect.any(String) });
    const dump = await ok<Record<string, unknown>>(client, "send_message", { container_id: "flow-1", message: { command: "dump", data: {} } });
    expect(dump).toMatchObject({ hostname: agent.short_id, pid: 1, runtime: expect.stringMatching(/^bun /), argv0: expect.any(String) });
    expect(dump.env_keys).toEqual(expect.arrayContaining(["DOCKERNET_FLOW_SOCKET"]));
    expect(JSON.stringify(dump)).not.toContain("/run/dockernet-flow/flow.sock"); // names only, no values
    expect(await ok(client, "send_message", { container_id: agent.id, message: { command: "hello-relay", data: { n: 1 } } })).toEqual({ command: "hello-relay", from: "relay" });

    // Many at once on one socket: each answer goes to its own request.
    const commands = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const answers = await Promise.all(commands.map((command) => ok<{ command: string }>(client, "send_message", { container_id: "flow-1", message: { command } })));
    expect(answers.map((answer) => answer.command)).toEqual(commands);

    const after = (await ok<Listed[]>(client, "list_containers", {}))[0] as Listed;
    expect(Date.parse(after.last_communication as string)).toBeGreaterThan(Date.parse(before.last_communication ?? "1970-01-01"));
    // Told at once, or with the rest of its second in one entry (at most one per container per second).
    await waitForEntry("the message activity", activity, (entry) => entry.kind === "message" && (entry.details?.command === "hello-relay" || (entry.details?.commands ?? []).includes("hello-relay")));
  });

  test("an unsolicited event reaches only the clients subscribed to its container", async () => {
    await using flow = await FlowServer.start(engine);
    const subscriber = await flow.client();
    const other = await flow.client();
    const agent = await runAgent(subscriber, "flow-1");
    const got = collect<{ container_id: string; name: string; command: string; data: unknown }>(subscriber, "container_message");
    const notGot = collect(other, "container_message");
    const otherStates = collect<{ id: string; action: string }>(other, "container_state");
    await ok(subscriber, "subscribe", { container_id: "flow-1" });

    expect(await ask(subscriber, "flow-1", "emit")).toEqual({ emitted: true });
    const tick = await waitForEntry("the tick", got, (entry) => entry.command === "tick");
    expect(tick).toMatchObject({ container_id: agent.id, name: "flow-1", data: { from: "relay" } });
    // The relay says hello at start, unasked: a restart shows it again to the subscriber.
    await ok(other, "restart_container", { container_id: "flow-1" });
    await waitForEntry("the hello after the restart", got, (entry) => entry.command === "hello");
    // container_state goes to every client, subscribed or not.
    await waitForEntry("the restart's state for the other client", otherStates, (entry) => entry.id === agent.id && entry.action === "restart");
    await sleep(300);
    expect(notGot).toEqual([]);

    await ok(subscriber, "unsubscribe", { container_id: "flow-1" });
    const count = got.length;
    expect(await ask(subscriber, "flow-1", "emit")).toEqual({ emitted: true });
    await sleep(300);
    expect(got.length).toBe(count);
    expect(notGot).toEqual([]);
  });

  test("update_container keeps the ID, and the new code runs", async () => {
    const codeRoot = await scratch();
    for (const version of ["v1", "v2"]) {
      await mkdir(join(codeRoot, version, "lib"), { recursive: true });
      await writeFile(join(codeRoot, version, "code.sh"), `. /app/lib/name.sh\necho "$NAME"\n`);
      await writeFile(join(codeRoot, version, "lib/name.sh"), `NAME=${version}\n`);
    }
    await using flow = await FlowServer.start(engine, { args: ["--code-root", codeRoot] });
    const client = await flow.client();
    const activity = collect<{ kind: string; container_id: string }>(client, "activity");
    const messages = collect<{ command: string }>(client, "container_message");
    const agent = await runAgent(client, "flow-1");
    await ok(client, "subscribe", { container_id: agent.id });
    expect(await ask(client, "flow-1", "code")).toEqual({ code: "none" });

    for (const version of ["v1", "v2"]) {
      const hellos = messages.filter((entry) => entry.command === "hello").length;
      const startedBefore = (await inspect(agent.id)).State.StartedAt;
      expect(await ok(client, "update_container", { container_id: "flow-1", code_path: join(codeRoot, version) })).toMatchObject({ id: agent.id, state: "running" });
      expect((await inspect(agent.id)).State.StartedAt).not.toBe(startedBefore); // restarted...
      expect((await ok<Listed[]>(client, "list_containers", {})).map((entry) => entry.id)).toEqual([agent.id]); // ...not re-created
      // The relay says hello once its new instance is connected.
      await waitFor(`the relay back after ${version}`, () => messages.filter((entry) => entry.command === "hello").length > hellos);
      expect(await ask(client, "flow-1", "code")).toEqual({ code: version });
      expect((await engine.docker(["exec", agent.id, "cat", "/app/lib/name.sh"])).stdout).toBe(`NAME=${version}\n`);
    }
    expect(activity.filter((entry) => entry.kind === "updated" && entry.container_id === agent.id)).toHaveLength(2);
  });

  test("the agent killed reconnects: restarted in its container, and the container killed and started again", async () => {
    await using flow = await FlowServer.start(engine);
    const client = await flow.client();
    // A supervisor loop as PID 1, so that killing the agent does not end the container.
    const looped = await runAgent(client, "looped", { command: ["sh", "-c", `while :; do ${BINARY_IN_IMAGE} flow agent; sleep 0.2; done`] });
    const first = await ask<{ pid: number }>(client, "looped", "dump");
    const disconnects = () => flow.daemon.find((line) => line.msg === "a container's agent disconnected" && line.container === looped.short_id).length;
    const killed = await engine.docker(["exec", looped.id, "kill", "-9", String(first.pid)]);
    expect(killed.code).toBe(0);
    await waitFor("the manager to see the agent gone", () => disconnects() === 1);
    await waitConnected(client, looped.id);
    const second = await ask<{ pid: number }>(client, "looped", "dump");
    expect(second.pid).not.toBe(first.pid);

    // The agent as PID 1: the container killed (outside the API, which clients see too), then started again through the API.
    const states = collect<{ id: string; state: string; action: string }>(client, "container_state");
    const plain = await runAgent(client, "plain", { command: undefined });
    await engine.docker(["kill", plain.id]);
    await waitForEntry("the kill's state event", states, (entry) => entry.id === plain.id && entry.action === "die" && entry.state === "exited");
    await waitConnected(client, plain.id, false);
    expect(await ok(client, "get_status", { container_id: "plain" })).toMatchObject({ state: "exited", socket_connected: false });
    await ok(client, "start_container", { container_id: "plain" });
    await waitConnected(client, plain.id);
    expect(await ask(client, "plain", "ping")).toMatchObject({ pong: true });
  });

  test("the manager restarted adopts its containers, their agents reconnect, and sockets of containers gone are swept", async () => {
    const dir = await scratch();
    const first = await FlowServer.start(engine, { dir });
    const client = await first.client();
    const a = await runAgent(client, "flow-a", { command: undefined });
    const b = await runAgent(client, "flow-b");
    const stopped = await ok<Created>(client, "create_container", { image: AGENT_IMAGE, name: "flow-stopped" });
    const doomed = await runAgent(client, "flow-doomed");
    expect(await readdir(first.socketDir)).toHaveLength(4);
    expect(await first.stop()).toBe(0);

    // While the manager is down its containers keep running, and one goes away.
    expect((await inspect(a.id)).State.Running).toBe(true);
    await engine.docker(["rm", "-f", doomed.id]);

    await using second = await FlowServer.start(engine, { dir });
    expect(second.token).toBe(first.token);
    expect(second.daemon.find((line) => line.msg === "flow started")[0]).toMatchObject({ containers: 3 });
    const again = await second.client();
    for (const agent of [a, b]) await waitConnected(again, agent.id);
    expect(await ask(again, "flow-a", "ping")).toMatchObject({ pong: true });
    expect(await ask(again, "flow-b", "echo")).toEqual({ command: "echo", from: "relay" });
    const listed = await ok<Listed[]>(again, "list_containers", {});
    expect(listed.map((entry) => entry.id).sort()).toEqual([a.id, b.id, stopped.id].sort());
    expect(await readdir(second.socketDir)).toHaveLength(3);
    // The stopped one is adopted too: started, its agent finds its socket.
    await ok(again, "start_container", { container_id: "flow-stopped" });
    await waitConnected(again, stopped.id);
  });
});

describe("clients", () => {
  test("50 clients at once: all connected, each lists the containers, each told of a new one", async () => {
    const metricsPort = await freePort();
    await using flow = await FlowServer.start(engine, { args: ["--metrics-listen", `127.0.0.1:${metricsPort}`] });
    const first = await flow.client();
    const agent = await runAgent(first, "flow-1");
    const clients = await Promise.all(Array.from({ length: 50 }, () => flow.client()));
    expect(clients.every((client) => client.connected)).toBe(true);
    // 51 connections of the server's own, not 50 sockets multiplexed on one.
    expect(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).toContain("\ndockernet_flow_clients 51\n");
    const lists = await Promise.all(clients.map((client) => ok<Listed[]>(client, "list_containers", {})));
    for (const list of lists) expect(list.map((entry) => entry.id)).toEqual([agent.id]);
    const told = clients.map((client) => collect<{ kind: string; name: string }>(client, "activity"));
    await ok(first, "create_container", { image: AGENT_IMAGE, name: "flow-2" });
    for (const seen of told) await waitForEntry("the created activity", seen, (entry) => entry.kind === "created" && entry.name === "flow-2");
    // And all at once through the manager to the agent.
    const pongs = await Promise.all(clients.map((client) => ask(client, "flow-1", "ping")));
    expect(pongs.every((pong) => pong.pong === true)).toBe(true);
  });

  test("`flow call` and `flow watch` of the compiled binary: JSON out, exit codes 0, 1 and 2", async () => {
    await using flow = await FlowServer.start(engine);
    const client = await flow.client();
    const connection = ["--url", flow.url, "--token-file", flow.tokenFile];
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" };
    const call = (args: string[], input?: string) => exec(BINARY, ["flow", "call", ...args, ...connection], { allowFail: true, env, ...(input === undefined ? {} : { input }) });

    const spec = join(await scratch(), "spec.json");
    await writeFile(spec, JSON.stringify({ image: AGENT_IMAGE, name: "flow-1", command: RELAY_COMMAND }));
    const created = await call(["create_container", "--file", spec]);
    expect(created.code).toBe(0);
    const id = (JSON.parse(created.stdout) as { data: Created }).data.id;
    expect(JSON.parse(created.stdout)).toEqual({ ok: true, data: { id, short_id: id.slice(0, 12), name: "flow-1", state: "created" } });

    expect((await call(["start_container", JSON.stringify({ container_id: "flow-1" })])).code).toBe(0);
    await waitConnected(client, id);
    const listed = await call(["list_containers"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ ok: true, data: [{ id, name: "flow-1", state: "running", socket_connected: true }] });
    // `--file=-`: the spelled-out `--file -` is refused as an unknown flag (see the test after this one).
    const emitted = await call(["send_message", "--file=-"], JSON.stringify({ container_id: "flow-1", message: { command: "emit", data: {} } }));
    expect([emitted.code, JSON.parse(emitted.stdout)]).toEqual([0, { ok: true, data: { emitted: true } }]);

    // watch: one JSON line per event, the container's own messages too (--container subscribes).
    const watch = spawn(BINARY, ["flow", "watch", "--container", "flow-1", ...connection], { env, stdio: ["ignore", "pipe", "pipe"] });
    const watchExit = new Promise<number>((resolve) => watch.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
    cleanups.push(async () => void watch.kill("SIGKILL"));
    let out = "";
    watch.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()));
    const events = () => out.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { event: string; data: Record<string, unknown> });
    // Subscribed once a tick of the relay reaches it.
    await waitFor("a container_message line", async () => {
      await ask(client, "flow-1", "emit");
      return events().find((entry) => entry.event === "container_message" && entry.data.command === "tick" && entry.data.container_id === id);
    }, 10_000, 200);
    expect((await call(["restart_container", '{"container_id":"flow-1"}'])).code).toBe(0);
    await waitFor("watch lines for the restart: activity and state", () => {
      const seen = events();
      return seen.some((entry) => entry.event === "activity" && entry.data.kind === "restarted") && seen.some((entry) => entry.event === "container_state" && entry.data.id === id && entry.data.action === "restart");
    });
    for (const line of out.split("\n").filter(Boolean)) expect(Object.keys(JSON.parse(line) as object).sort()).toEqual(["data", "event"]);
    watch.kill("SIGTERM");
    expect(await watchExit).toBe(0);

    // An error reply: printed as JSON, exit 1.
    const missing = await call(["get_status", '{"container_id":"no-such"}']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: true, error_type: "not_found" });
    expect((await call(["get_status", "{}"])).code).toBe(1);
    const unknown = await call(["drop_everything"]);
    expect([unknown.code, JSON.parse(unknown.stdout).error_type]).toEqual([1, "validation_error"]);
    // Usage: exit 2, nothing sent.
    for (const args of [["get_status", "not json"], [], ["list_containers", "--bogus"], ["get_status", "{}", "--file", spec], ["list_containers", "--timeout", "soon"]]) {
      const result = await call(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: "" });
    }
    const badWatch = await exec(BINARY, ["flow", "watch", "--container", "no-such", ...connection], { allowFail: true, env });
    expect(badWatch.code).toBe(1);
    expect(JSON.parse(badWatch.stderr)).toMatchObject({ error_type: "not_found" });
    // The wrong token: refused, said so, exit 1.
    const wrongToken = join(await scratch(), "token");
    await writeFile(wrongToken, "a-token-that-is-long-enough\n", { mode: 0o600 });
    const refused = await exec(BINARY, ["flow", "call", "list_containers", "--url", flow.url, "--token-file", wrongToken], { allowFail: true, env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the flow server at ${flow.url} refused the token`);

    // watch exits 1 when the server goes away.
    const orphan = spawn(BINARY, ["flow", "watch", ...connection], { env, stdio: ["ignore", "pipe", "pipe"] });
    const orphanExit = new Promise<number>((resolve) => orphan.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
    cleanups.push(async () => void orphan.kill("SIGKILL"));
    let orphanOut = "";
    orphan.stdout.on("data", (chunk: Buffer) => void (orphanOut += chunk.toString()));
    await waitFor("the second watch to print", async () => {
      await ask(client, "flow-1", "ping");
      return orphanOut.includes('"event":"activity"');
    }, 10_000, 200);
    await flow.stop();
    expect(await orphanExit).toBe(1);
  });

  // `-` is a value, not a flag (rejectUnknownFlags once took it for one and exited 2).
  test("`flow call --file -` reads the payload from stdin, as its help says", async () => {
    const dir = await scratch();
    await writeFile(join(dir, "token"), "a-token-that-is-long-enough\n", { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const args = ["flow", "call", "get_status", "--file", "-", "--url", `http://127.0.0.1:${await freePort()}`, "--token-file", join(dir, "token")];
    const result = await exec(BINARY, args, { allowFail: true, env, input: '{"container_id":"flow-1"}' });
    // Read, then off to a server that is not there: a runtime failure, not a usage error.
    expect(result.stderr).not.toContain("unknown flag");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot reach the flow server");
  });
});

describe("status and operations", () => {
  test("get_status: state, health, uptime, socket, last communication, CPU and memory", async () => {
    await using flow = await FlowServer.start(engine);
    const client = await flow.client();
    const agent = await runAgent(client, "flow-1");
    await ask(client, "flow-1", "ping");
    await sleep(1100);
    const status = await ok<Record<string, any>>(client, "get_status", { container_id: "flow-1" });
    expect(status).toEqual({
      id: agent.id,
      short_id: agent.short_id,
      name: "flow-1",
      image: AGENT_IMAGE,
      state: "running",
      health: "none",
      uptime_s: expect.any(Number),
      socket_connected: true,
      last_communication: expect.any(String),
      cpu_percent: expect.any(Number),
      memory: { used: expect.any(Number), limit: expect.any(Number) },
    });
    expect(status.uptime_s).toBeGreaterThanOrEqual(1);
    expect(Date.now() - Date.parse(status.last_communication)).toBeLessThan(30_000);
    expect(status.cpu_percent).toBeGreaterThanOrEqual(0);
    expect(status.memory.used).toBeGreaterThan(0);
    expect(status.memory.limit).toBeGreaterThanOrEqual(status.memory.used);

    await ok(client, "stop_container", { container_id: "flow-1" });
    expect(await ok(client, "get_status", { container_id: "flow-1" })).toMatchObject({ state: "exited", uptime_s: 0, socket_connected: false, cpu_percent: 0, memory: { used: 0, limit: 0 } });

    // An image with a HEALTHCHECK: its status, not `none`.
    const context = await scratch();
    await writeFile(join(context, "Dockerfile"), `FROM ${AGENT_IMAGE}\nHEALTHCHECK --interval=1s --timeout=2s CMD ["/bin/true"]\n`);
    await engine.docker(["build", "-q", "-t", "dockernet-test:agent-health", context]);
    await runAgent(client, "flow-health", { image: "dockernet-test:agent-health", command: undefined });
    const healthy = await waitFor("healthy", async () => {
      const shown = await ok<{ health: string }>(client, "get_status", { container_id: "flow-health" });
      return shown.health === "healthy" ? shown : undefined;
    }, 20_000, 200);
    expect(healthy.health).toBe("healthy");
  });

  test("/healthz and /metrics (--metrics-listen) show flow's listener and channel counts", async () => {
    const port = await freePort();
    await using flow = await FlowServer.start(engine, { args: ["--metrics-listen", `127.0.0.1:${port}`] });
    const client = await flow.client();
    await runAgent(client, "flow-1");
    await ok(client, "create_container", { image: AGENT_IMAGE, name: "flow-2" });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: "ok" }]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (series: string) => Number(metrics.split("\n").find((line) => line.startsWith(`${series} `))?.slice(series.length + 1));
    expect(metrics).toContain("# TYPE dockernet_flow_clients gauge");
    expect(value("dockernet_flow_clients")).toBe(1);
    expect(value("dockernet_flow_channel_listeners")).toBe(2);
    expect(value("dockernet_flow_channels_connected")).toBe(1);
  });

  test("`dockernet run warp join flow` runs all three on one events stream", async () => {
    await using flow = await FlowServer.start(engine, { command: ["run", "warp", "join", "flow"], args: ["--log-level", "debug"] });
    await waitFor("all three started", () => ["warp started", "join started", "flow started"].every((msg) => flow.daemon.find((line) => line.msg === msg).length === 1));
    const client = await flow.client();
    const states = collect<{ name: string; action: string }>(client, "container_state");
    await runAgent(client, "flow-1");
    await waitForEntry("flow's state event from the shared stream", states, (entry) => entry.name === "flow-1" && entry.action === "start");
    expect(flow.daemon.find((line) => line.msg === "events stream open")).toHaveLength(1);
    // flow relays streams: the normal JIT policy, though warp and join run beside it.
    expect(flow.daemon.find((line) => line.msg === "JIT policy set")).toMatchObject([{ scale: 1 }]);
    expect(flow.daemon.find((line) => line.level === "error")).toEqual([]);
  });
});
