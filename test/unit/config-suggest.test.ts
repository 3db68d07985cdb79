import { describe, expect, test } from "bun:test";
import { closest } from "../../src/config/_suggest.ts";
import { readListen } from "../../src/core/listen.ts";

describe("closest: 'did you mean' for a mistyped config name", () => {
  const keys = ["listen", "url", "socket_dir", "token_file", "volume_roots", "code_roots"];

  test("a transposition, a missing or an extra letter", () => {
    expect(closest("token_flie", keys)).toBe("token_file");
    expect(closest("socket_di", keys)).toBe("socket_dir");
    expect(closest("volume_rootss", keys)).toBe("volume_roots");
    expect(closest("TOKEN_FILE", keys)).toBe("token_file");
  });

  test("nothing for a name that is no typo of any, or too short to tell", () => {
    expect(closest("bogus", keys)).toBeUndefined();
    expect(closest("ur", ["url", "log"])).toBeUndefined();
    expect(closest("", keys)).toBeUndefined();
  });
});

describe("readListen: what is wrong with an address", () => {
  test("a port out of range is named as such, a bad shape as a bad shape", () => {
    expect(readListen("127.0.0.1:99999")).toBe("port 99999 is out of range (1-65535)");
    expect(readListen("0")).toBe("port 0 is out of range (1-65535)");
    expect(readListen("localhost")).toBe("expected HOST:PORT, [IPv6]:PORT or PORT");
    expect(readListen("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(readListen("9477")).toEqual({ host: "127.0.0.1", port: 9477 });
  });
});
