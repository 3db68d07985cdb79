/**
 * The API's edge: every payload is parsed into its type or refused with `validation_error` naming
 * the field, and no reply repeats what a client sent as a value (it may be a secret); every
 * failure is answered in the one reply shape, Docker's ids of other containers left out.
 */
import { describe, expect, test } from "bun:test";
import { DockernetError } from "../../src/core/errors.ts";
import { errorReply, FlowError } from "../../src/modes/flow/protocol/replies.ts";
import { parsePayload, requestNames, type RequestName } from "../../src/modes/flow/protocol/requests.ts";

/** The FlowError parsing throws, as `{type, message, details}`. */
function refused(request: RequestName, payload: unknown): { type: string; message: string; details: Record<string, unknown> } {
  try {
    parsePayload(request, payload);
  } catch (error) {
    if (error instanceof FlowError) return { type: error.type, message: error.message, details: error.details };
    throw error;
  }
  throw new Error(`${request} ${JSON.stringify(payload)} was accepted`);
}

describe("parsePayload", () => {
  test("a valid payload comes back as its type; no payload is an empty one", () => {
    const create = { image: "busybox:latest", name: "web-1", environment: { API_TOKEN: "s3cret" }, volumes: { "/srv/a": "/a", "/srv/b": { bind: "/b", mode: "ro" as const } }, ports: { "80/tcp": 8080, "53/udp": null }, command: ["sh", "-c", "x"], working_dir: "/app" };
    expect(parsePayload("create_container", create)).toEqual(create);
    expect(parsePayload("send_message", { container_id: "web-1", message: { command: "ping" }, timeout_ms: 500 })).toEqual({ container_id: "web-1", message: { command: "ping" }, timeout_ms: 500 });
    expect(parsePayload("list_containers", undefined)).toEqual({});
    expect(parsePayload("list_containers", null)).toEqual({});
  });

  test("the first bad field is named, with at most five issues", () => {
    expect(refused("start_container", {})).toEqual({ type: "validation_error", message: "start_container: container_id is required", details: { field: "container_id", issues: [{ field: "container_id", message: "is required" }] } });
    expect(refused("send_message", { container_id: "web-1", message: "ping" })).toMatchObject({ message: "send_message: message must be an object", details: { field: "message" } });
    expect(refused("logs", { container_id: "web-1", tail: 1.5 })).toMatchObject({ message: "logs: tail must be a whole number", details: { field: "tail" } });
    expect(refused("create_container", { image: "busybox", ports: { "99999/tcp": 1 } })).toMatchObject({ details: { field: "ports.99999/tcp" } });
    expect(refused("create_container", { image: "busybox", command: "sh -c x" })).toMatchObject({ message: "create_container: command must be an array of strings (no shell: one element per argument)" });
    const many = refused("create_container", { image: 1, name: 2, environment: 3, volumes: 4, ports: 5, command: 6, working_dir: 7 });
    expect(many.details.issues).toHaveLength(5);
  });

  test("an array, or a container id that could climb paths or hold control characters, is refused", () => {
    expect(refused("get_status", [{ container_id: "web-1" }])).toMatchObject({ message: "get_status: payload must be an object", details: { field: "payload" } });
    expect(refused("get_status", { container_id: "../web-1" })).toMatchObject({ details: { field: "container_id" } });
    expect(refused("get_status", { container_id: "web\n1" })).toMatchObject({ message: "get_status: container_id must not contain control characters" });
    expect(refused("update_container", { container_id: "web-1", code_path: "relative/code" })).toMatchObject({ message: "update_container: code_path must be an absolute path" });
    // A colon would be read as the separator of Docker's `host:container:mode` bind.
    expect(refused("create_container", { image: "busybox", volumes: { "/srv/a": "/a:/etc" } })).toMatchObject({ details: { field: "volumes./srv/a" } });
    expect(refused("create_container", { image: "busybox", volumes: { "/srv/a": { bind: "/a:ro" } } })).toMatchObject({ details: { field: "volumes./srv/a.bind" } });
    expect(refused("create_container", { image: "busybox", volumes: { "/srv/a:/x": "/a" } })).toMatchObject({ message: expect.stringContaining("must not contain a colon") });
  });

  test("a refusal never repeats a value the client sent", () => {
    const secret = "hunter2-do-not-echo";
    const cases: [RequestName, unknown][] = [
      ["create_container", { image: "busybox", environment: { TOKEN: 42, "bad name": secret } }],
      ["create_container", { image: "busybox", extra: secret }],
      ["send_message", { container_id: "web-1", message: { command: "ping", data: {}, extra: secret } }],
      ["send_message", { container_id: "web-1", message: { command: 7 }, note: secret }],
      ["create_container", { image: `${secret} x` }],
      ["create_container", { image: "busybox", environment: { TOKEN: `${secret}\u0000` } }],
      ["logs", { container_id: "web-1", follow: secret }],
    ];
    for (const [request, payload] of cases) {
      // Field names may be named (the client chose them); values never.
      expect(JSON.stringify(refused(request, payload))).not.toContain("hunter2");
    }
  });

  test("every request has a schema", () => {
    expect([...requestNames].sort()).toEqual(["create_container", "delete_container", "get_status", "list_containers", "logs", "restart_container", "send_message", "start_container", "stop_container", "subscribe", "unsubscribe", "update_container"]);
  });
});

describe("errorReply", () => {
  test("a FlowError as the one failure shape, stamped now", () => {
    const reply = errorReply(new FlowError("not_found", "container \"x\": no container of this manager has this id or name", { container_id: "x" }));
    expect(reply).toEqual({ error: true, error_type: "not_found", message: 'container "x": no container of this manager has this id or name', details: { container_id: "x" }, timestamp: expect.any(String) });
    expect(Math.abs(Date.now() - Date.parse(reply.timestamp))).toBeLessThan(5000);
  });

  test("Docker's refusals by kind, with ids of other containers left out", () => {
    const other = "f".repeat(64);
    const conflict = new DockernetError(`create web-1: Conflict. The container name "/web-1" is already in use by container "${other}"`, { code: "DOCKER_CONFLICT" });
    expect(errorReply(conflict)).toMatchObject({ error_type: "conflict", message: 'create web-1: Conflict. The container name "/web-1" is already in use by container "(another container)"', details: { code: "DOCKER_CONFLICT" } });
    expect(errorReply(new DockernetError("no such container", { code: "DOCKER_NOT_FOUND" }))).toMatchObject({ error_type: "not_found", details: { code: "DOCKER_NOT_FOUND" } });
    expect(errorReply(new DockernetError("engine said 500", { code: "DOCKER_API" }))).toMatchObject({ error_type: "docker_api_error", details: { code: "DOCKER_API" } });
  });

  test("anything else: its message only, no stack, no details", () => {
    const reply = errorReply(new TypeError("x is not a function"));
    expect(reply).toEqual({ error: true, error_type: "docker_api_error", message: "x is not a function", details: {}, timestamp: expect.any(String) });
    expect(errorReply(new DockernetError("the token file is gone", { code: "FLOW_TOKEN" }))).toMatchObject({ error_type: "docker_api_error", details: {} });
    expect(errorReply("a string")).toMatchObject({ message: "a string" });
  });
});
