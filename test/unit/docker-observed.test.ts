import { describe, expect, test } from "bun:test";
import { toObserved } from "../../src/docker/_inspect.ts";

// The parts of `docker inspect` dockernet reads, for a container run with `-p 8080:80 -p 5353:53/udp --expose 9000`.
const inspected = {
  Id: "abc123",
  Name: "/app",
  State: { Running: true, Pid: 4242 },
  Config: { Labels: { "network.warp.target": "warp-1" }, Env: ["PATH=/bin"] },
  HostConfig: { NetworkMode: "edge" },
  NetworkSettings: {
    Networks: {
      edge: { NetworkID: "n1", IPAddress: "172.20.0.2", IPPrefixLen: 16, Gateway: "172.20.0.1", GlobalIPv6Address: "fd00::2", IPv6Gateway: "fd00::1" },
    },
    Ports: {
      "80/tcp": [
        { HostIp: "0.0.0.0", HostPort: "8080" },
        { HostIp: "::", HostPort: "8080" },
      ],
      "53/udp": [{ HostIp: "0.0.0.0", HostPort: "5353" }],
      "9000/tcp": null,
      "9001/tcp": [],
      "7/sctp": [{ HostIp: "0.0.0.0", HostPort: "7" }],
    },
  },
};

describe("toObserved", () => {
  test("published ports: the container side of each bound port, once, tcp and udp only", () => {
    expect(toObserved(inspected).published).toEqual([
      { port: 80, proto: "tcp" },
      { port: 53, proto: "udp" },
    ]);
  });

  test("no Ports at all, or null: nothing published", () => {
    expect(toObserved({ ...inspected, NetworkSettings: { Networks: null } }).published).toEqual([]);
    expect(toObserved({ ...inspected, NetworkSettings: { Networks: null, Ports: null } }).published).toEqual([]);
  });

  test("the rest of the container, with its IPv6 address", () => {
    expect(toObserved(inspected)).toMatchObject({
      id: "abc123",
      name: "app",
      running: true,
      pid: 4242,
      networkMode: "edge",
      networks: [{ name: "edge", networkId: "n1", ipv4: "172.20.0.2", prefixLength: 16, gateway: "172.20.0.1", ipv6: "fd00::2", gateway6: "fd00::1" }],
    });
  });
});
