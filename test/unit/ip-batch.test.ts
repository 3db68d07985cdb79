import { describe, expect, test } from "bun:test";
import { DockernetError } from "../../src/core/errors.ts";
import { batchLine, parseBatchErrors } from "../../src/net/ip-batch.ts";

describe("parseBatchErrors", () => {
  test("maps each `Command failed -:N` to the messages printed before it", () => {
    const stderr = "RTNETLINK answers: File exists\nCommand failed -:6\nError: Nexthop has invalid gateway.\nCommand failed -:4\n";
    expect(parseBatchErrors(stderr)).toEqual(
      new Map([
        [6, "RTNETLINK answers: File exists"],
        [4, "Error: Nexthop has invalid gateway."],
      ]),
    );
  });

  test("several message lines for one command are joined", () => {
    const stderr = "Error: argument \"x\" is wrong: Invalid table ID\n\nRTNETLINK answers: Invalid argument\nCommand failed -:2\n";
    expect(parseBatchErrors(stderr).get(2)).toBe('Error: argument "x" is wrong: Invalid table ID; RTNETLINK answers: Invalid argument');
  });

  test("a failure with no message still counts", () => {
    expect(parseBatchErrors("Command failed -:3\n")).toEqual(new Map([[3, "failed"]]));
  });

  test("clean or empty stderr has no errors; trailing text without a failure line is not attributed", () => {
    expect(parseBatchErrors("").size).toBe(0);
    expect(parseBatchErrors("Warning: something odd\n").size).toBe(0);
  });
});

describe("batchLine", () => {
  test("plain tokens are joined with spaces", () => {
    expect(batchLine(["route", "replace", "10.0.0.0/8", "via", "172.20.0.3", "table", "211", "proto", "211"])).toBe(
      "route replace 10.0.0.0/8 via 172.20.0.3 table 211 proto 211",
    );
    expect(batchLine(["rule", "add", "pref", "5210", "lookup", "main", "suppress_prefixlength", "0"])).toContain("suppress_prefixlength 0");
    expect(batchLine(["route", "del", "fe80::1", "table", "211"])).toBe("route del fe80::1 table 211");
  });

  const unsafe = {
    "a space": "10.0.0.0/8 via 1.2.3.4",
    "a double quote": '"x"',
    "a single quote": "'x'",
    "a semicolon": "211;reboot",
    "command substitution": "$(reboot)",
    "a backtick": "`id`",
    "a newline (a second batch line)": "211\nroute flush table main",
    "a tab": "a\tb",
    "an empty string": "",
    "a comment sign": "#",
    "more than 64 characters": "a".repeat(65),
  };
  for (const [what, token] of Object.entries(unsafe)) {
    test(`refuses a token with ${what}`, () => {
      let thrown: unknown;
      try {
        batchLine(["route", "replace", token]);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DockernetError);
      expect((thrown as DockernetError).code).toBe("UNSAFE_ARGUMENT");
      expect((thrown as Error).message.length).toBeLessThan(120);
    });
  }

  test("64 characters is still fine", () => {
    expect(batchLine(["a".repeat(64)])).toBe("a".repeat(64));
  });
});
