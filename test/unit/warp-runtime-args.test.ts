import { describe, expect, test } from "bun:test";
import { portBindings } from "../../src/modes/warp/runtime/bundle.ts";
import { flagValue, parseOciCall, preservedFds } from "../../src/modes/warp/runtime/oci-args.ts";

// What containerd's runc shim really passed on Docker 20.10 (recorded on the test engine).
const globals = ["--root", "/run/docker/runtime-runc/moby", "--log", "/run/task/abc/log.json", "--log-format", "json"];
const id = "6a89adeaa5e208da30357a1c9cfc73f14f4115b81f090598a81ed7449f01c72c";

describe("parseOciCall", () => {
  test("start: the global flags, the command and the container id", () => {
    expect(parseOciCall([...globals, "start", id])).toEqual({ globals, command: "start", rest: [id], id });
  });

  test("create: the command and its flags; no id is taken from anything but start", () => {
    const call = parseOciCall([...globals, "--systemd-cgroup", "create", "--bundle", "/run/task/abc", "--pid-file", "/run/task/abc/init.pid", id]);
    expect(call).toEqual({ globals: [...globals, "--systemd-cgroup"], command: "create", rest: ["--bundle", "/run/task/abc", "--pid-file", "/run/task/abc/init.pid", id] });
    expect(flagValue(call.rest, "--bundle")).toBe("/run/task/abc");
  });

  test("a global flag's value is not the command (`--root start`)", () => {
    expect(parseOciCall(["--root", "start", "state", id])).toMatchObject({ command: "state", globals: ["--root", "start"] });
  });

  test("no command: `--version`, `--help`", () => {
    expect(parseOciCall(["--version"])).toEqual({ globals: ["--version"], rest: [] });
  });

  test("delete --force, kill ID SIGNAL: passed on as they are, with no id for dockernet", () => {
    expect(parseOciCall([...globals, "kill", id, "15"])).toEqual({ globals, command: "kill", rest: [id, "15"] });
    expect(parseOciCall([...globals, "delete", "--force", id]).id).toBeUndefined();
  });
});

describe("preservedFds", () => {
  test("--preserve-fds N hands fds 3..3+N-1 to runc; none without it", () => {
    expect(preservedFds(parseOciCall(["create", "--preserve-fds", "2", "--bundle", "/b", id]))).toBe(2);
    expect(preservedFds(parseOciCall(["exec", "--preserve-fds=1", "--process", "/p.json", id]))).toBe(1);
    expect(preservedFds(parseOciCall(["create", "--bundle", "/b", id]))).toBe(0);
    expect(preservedFds(parseOciCall(["create", "--preserve-fds", "-1", id]))).toBe(0);
  });
});

describe("portBindings", () => {
  test("the ports a container asked to publish (hostconfig.json), as the plan reads them", () => {
    expect(portBindings({ "80/tcp": [{ HostIp: "", HostPort: "8080" }], "53/udp": [{ HostIp: "", HostPort: "" }], "443/tcp": [], "9/sctp": [{}] })).toEqual([
      { port: 80, proto: "tcp" },
      { port: 53, proto: "udp" },
    ]);
    expect(portBindings(null)).toEqual([]);
  });
});
