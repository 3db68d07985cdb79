/**
 * Issue 19, "the first hour": the stumbles that need a running engine and flow server, each
 * driven with the compiled binary as a user would (`flow call`, `flow watch`, `join status`)
 * and checked by what it prints and its exit code. The rows that need no engine are in
 * first-hour.test.ts.
 */
import { afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { exec } from "../support/_exec.ts";
import { waitFor } from "../support/dockernet.ts";
import { useTestEngine } from "../support/engine.ts";
import { AGENT_IMAGE, BINARY, RELAY_COMMAND, buildAgentImage } from "../support/flow-image.ts";
import { FlowServer, removeFlowContainers } from "../support/flow-server.ts";

setDefaultTimeout(120_000);

const engine = useTestEngine({ name: "dntest-firsthour", subnet: 131 });
const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", DOCKER_HOST: engine.host });
const compiled: [string, string[]] = [BINARY, []];
const children: ChildProcess[] = [];

beforeAll(async () => {
  await buildAgentImage(engine);
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await removeFlowContainers(engine);
});

/** `dockernet ARGS` of the compiled binary, run to its end. */
function dockernet(args: string[]) {
  return exec(BINARY, args, { env: env(), allowFail: true, timeoutMs: 60_000 });
}

/** A long-running `dockernet ARGS` (watch, call with follow), its output collected. */
function started(args: string[]) {
  const child = spawn(BINARY, args, { env: env(), stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => void (output.stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => void (output.stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, output, exited };
}

describe("the first hour with a running flow server (issue 19)", () => {
  test("6, 15, 7, 18: the chosen host port, a container's own error, logs followed from the command line, one line per agent", async () => {
    await using flow = await FlowServer.start(engine, { program: compiled });
    const connection = ["--url", flow.url, "--token-file", flow.tokenFile];
    const call = (request: string, payload: unknown) => dockernet(["flow", "call", request, JSON.stringify(payload), ...connection]);

    // 6: `"80/tcp": null` asks Docker for any free port; status and list say which one it chose.
    expect((await call("create_container", { image: AGENT_IMAGE, name: "web-1", command: RELAY_COMMAND, ports: { "80/tcp": null } })).code).toBe(0);
    expect((await call("start_container", { container_id: "web-1" })).code).toBe(0);
    const status = await call("get_status", { container_id: "web-1" });
    expect(status.code).toBe(0);
    const ports = (JSON.parse(status.stdout) as { data: { ports: { port: string; host_ip: string; host_port: number }[] } }).data.ports;
    expect(ports).toEqual([{ port: "80/tcp", host_ip: "127.0.0.1", host_port: expect.any(Number) }]);
    expect(ports[0]?.host_port).toBeGreaterThan(0);
    const listed = JSON.parse((await call("list_containers", {})).stdout) as { data: { name: string; ports: unknown }[] };
    expect(listed.data.find((entry) => entry.name === "web-1")?.ports).toEqual(ports);

    // 15: the socket worked, the container said no: its own error_type, exit 1.
    await waitFor("web-1's agent", async () => (JSON.parse((await call("list_containers", {})).stdout) as { data: { socket_connected: boolean }[] }).data[0]?.socket_connected);
    const refused = await call("send_message", { container_id: "web-1", message: { command: "fail", data: {} } });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: true, error_type: "container_error", message: expect.stringContaining("the relay refuses") });

    // 7: `logs` with follow keeps printing, one JSON line per log line, until interrupted (exit 0).
    const follow = started(["flow", "call", "logs", JSON.stringify({ container_id: "web-1", follow: true, tail: 0 }), ...connection]);
    await waitFor("the follow reply", () => follow.output.stdout.includes('"following": true'));
    expect((await call("send_message", { container_id: "web-1", message: { command: "say", data: {} } })).code).toBe(0);
    await waitFor("the said line, followed", () => follow.output.stdout.includes("the relay says"));
    const line = follow.output.stdout.split("\n").find((text) => text.includes("the relay says")) ?? "";
    expect(JSON.parse(line)).toMatchObject({ event: "log", data: { name: "web-1", stream: "stderr" } });
    follow.child.kill("SIGINT");
    expect(await follow.exited).toBe(0);

    // 18: one server line per agent connection, naming the container; the agent's own lines carry Docker's timestamp only.
    const connected = flow.daemon.find((entry) => entry.msg.includes("agent connected") || entry.msg === "container connected");
    expect(connected).toMatchObject([{ msg: "a container's agent connected", name: "web-1" }]);
    const logged = JSON.parse((await call("logs", { container_id: "web-1" })).stdout) as { data: { lines: { line: string }[] } };
    const agentLine = logged.data.lines.find((entry) => entry.line.includes("connected to the flow manager"))?.line ?? "";
    expect(agentLine).not.toBe("");
    expect(agentLine.match(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/g)).toHaveLength(1);
  });

  test("9: watch says when it is connected, and carries on across a server restart", async () => {
    const flow = await FlowServer.start(engine, { program: compiled });
    try {
      const watch = started(["flow", "watch", "--url", flow.url, "--token-file", flow.tokenFile]);
      await waitFor("watch connected", () => watch.output.stderr.includes("watching the flow server"));
      await flow.stop();
      await waitFor("watch waiting", () => watch.output.stderr.includes("waiting for it to come back"));
      await using again = await FlowServer.start(engine, { program: compiled, dir: flow.dir, port: flow.port });
      await waitFor("watch connected again", () => watch.output.stderr.includes("watching the flow server again"), 15_000);
      // Still watching: events of the restarted server reach it.
      expect((await dockernet(["flow", "call", "create_container", JSON.stringify({ image: AGENT_IMAGE, name: "after" }), "--url", again.url, "--token-file", again.tokenFile])).code).toBe(0);
      await waitFor("an event after the restart", () => watch.output.stdout.includes('"kind":"created"'));
      watch.child.kill("SIGTERM");
      expect(await watch.exited).toBe(0);
    } finally {
      await flow.remove();
    }
  });
});

describe("the first hour with join (issue 19)", () => {
  test("14: join status without the proxy: a hint naming --container-name, and its state in the JSON", async () => {
    const table = await dockernet(["join", "status", "--container-name", "traefik"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain("proxy traefik: proxy container traefik does not exist");
    expect(table.stdout).toContain("hint: no container is named traefik: name the proxy with --container-name NAME");
    const json = await dockernet(["join", "status", "--json", "--container-name", "traefik"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ proxy: { name: "traefik", state: "absent", hint: expect.stringContaining("--container-name") }, networks: expect.any(Array) });
  });
});
