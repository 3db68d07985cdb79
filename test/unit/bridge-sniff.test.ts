import { describe, expect, test } from "bun:test";
import { createSniffer } from "../../src/modes/bridge/local/_sniff.ts";

const request = (path: string, body: string, extra = "") => Buffer.from(`POST ${path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

describe("the containers/create sniffer", () => {
  test("finds bind sources in Binds and Mounts, across chunks and keep-alive requests", () => {
    const seen: string[][] = [];
    const feed = createSniffer((found) => seen.push(found.binds));
    const create = request("/v1.45/containers/create?name=x", JSON.stringify({ Image: "busybox", HostConfig: { Binds: ["/srv/data:/data:ro", "named:/v"], Mounts: [{ Type: "bind", Source: "/etc/app", Target: "/app" }, { Type: "volume", Source: "v" }] } }));
    const ping = Buffer.from("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
    const stream = Buffer.concat([ping, create, request("/containers/create", "{}")]);
    for (let at = 0; at < stream.length; at += 7) feed(stream.subarray(at, at + 7));
    expect(seen).toEqual([["/srv/data", "/etc/app"], []]);
  });

  test("a body of null, a number, an array or broken JSON is ignored, never thrown", () => {
    const seen: string[][] = [];
    const feed = createSniffer((found) => seen.push(found.binds));
    for (const body of ["null", "4", "[1]", "{", '{"HostConfig":null}', '{"HostConfig":{"Binds":"x","Mounts":[null]}}']) {
      expect(() => feed(request("/v1.45/containers/create", body))).not.toThrow();
    }
    expect(seen).toEqual([[], [], [], [], [], []]);
  });

  test("stops reading at chunked bodies and upgrades", () => {
    const seen: string[][] = [];
    const feed = createSniffer((found) => seen.push(found.binds));
    feed(Buffer.from("POST /containers/abc/attach?stream=1 HTTP/1.1\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n"));
    feed(request("/containers/create", JSON.stringify({ HostConfig: { Binds: ["/x:/y"] } })));
    expect(seen).toEqual([]);
  });
});

describe("what the sniffer names of the container", () => {
  test("the ?name= of docker run --name, and the image (an unnamed container's only name before Docker answers)", () => {
    const seen: unknown[] = [];
    const feed = createSniffer((found) => seen.push(found));
    feed(request("/v1.45/containers/create?name=web-1", JSON.stringify({ Image: "nginx:1", HostConfig: { Binds: ["/srv:/srv"] } })));
    feed(request("/v1.45/containers/create", JSON.stringify({ Image: "busybox" })));
    feed(request("/v1.45/containers/create?name=empty-body", ""));
    expect(seen).toEqual([{ binds: ["/srv"], name: "web-1", image: "nginx:1" }, { binds: [], image: "busybox" }, { binds: [], name: "empty-body" }]);
  });
});
