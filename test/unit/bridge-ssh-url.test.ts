// `--host` / bridge.host (src/modes/bridge/server/providers/ssh-url.ts): what is read, and for a
// malformed value, which part is wrong (never "Invalid URL").
import { describe, expect, test } from "bun:test";
import { readSshUrl } from "../../src/modes/bridge/server/providers/ssh-url.ts";

describe("ssh:// hosts", () => {
  test.each([
    ["ssh://dev@build-box:2222", { host: "build-box", port: 2222, user: "dev" }],
    ["ssh://build-box", { host: "build-box", port: 22, user: "root" }],
    ["ssh://dev@10.0.0.1/", { host: "10.0.0.1", port: 22, user: "dev" }],
    ["ssh://me%40corp@[fd00::1]:22", { host: "fd00::1", port: 22, user: "me@corp" }],
  ])("%s", (url, expected) => {
    expect(readSshUrl(url)).toEqual(expected);
  });

  test.each([
    ["ssh://root@10.0.0.1:22x", 'has a port that is not a number ("22x")'],
    ["ssh://root@:2222", "has no host name (ssh://[user@]host[:port])"],
    ["ssh://root@host:99999", "has port 99999, out of range (1-65535)"],
    ["ssh://root@host:0", "has port 0, out of range (1-65535)"],
    ["ssh://r%zz@host", 'has a malformed %-escape in its user "r%zz"'],
    ["build-box", "is not ssh://[user@]host[:port]"],
    ["tcp://host:2375", "is not ssh://[user@]host[:port]"],
    ["ssh://a@b@c", "is not ssh://[user@]host[:port]"],
  ])("%s: %s", (url, problem) => {
    expect(readSshUrl(url)).toEqual({ problem });
  });
});
