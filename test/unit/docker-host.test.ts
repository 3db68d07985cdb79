import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockernetError } from "../../src/core/errors.ts";
import { parseDockerHost } from "../../src/docker/host.ts";

const certDir = mkdtempSync(join(tmpdir(), "dockernet-certs-"));
for (const file of ["ca.pem", "cert.pem", "key.pem"]) writeFileSync(join(certDir, file), `-----BEGIN ${file}-----\n`);
const emptyDir = mkdtempSync(join(tmpdir(), "dockernet-nocerts-"));
afterAll(() => {
  rmSync(certDir, { recursive: true, force: true });
  rmSync(emptyDir, { recursive: true, force: true });
});

function failure(host: string, env: Record<string, string | undefined> = {}): DockernetError {
  try {
    parseDockerHost(host, env);
  } catch (error) {
    if (error instanceof DockernetError) return error;
    throw error;
  }
  throw new Error(`${host} was accepted`);
}

describe("parseDockerHost: unix", () => {
  test("an absolute socket path", () => {
    expect(parseDockerHost("unix:///var/run/docker.sock", {})).toEqual({ socketPath: "/var/run/docker.sock", shown: "unix:///var/run/docker.sock" });
  });

  test("a relative socket path is a usage error", () => {
    const error = failure("unix://run/docker.sock");
    expect(error.message).toBe('docker host "unix://run/docker.sock": the socket path must be absolute');
    expect(error).toMatchObject({ code: "DOCKER_HOST_INVALID", exitCode: 2 });
    expect(error.hint).toContain("unix:///var/run/docker.sock");
  });
});

describe("parseDockerHost: tcp", () => {
  test("plain HTTP on the default port 2375", () => {
    expect(parseDockerHost("tcp://10.0.0.5", {})).toEqual({ protocol: "http", host: "10.0.0.5", port: 2375, shown: "tcp://10.0.0.5" });
    expect(parseDockerHost("tcp://docker.internal:12375", {})).toMatchObject({ protocol: "http", host: "docker.internal", port: 12375 });
  });

  test("DOCKER_TLS_VERIFY=1 turns on TLS and the default port becomes 2376", () => {
    expect(parseDockerHost("tcp://10.0.0.5", { DOCKER_TLS_VERIFY: "1" })).toMatchObject({ protocol: "https", port: 2376 });
    expect(parseDockerHost("tcp://10.0.0.5:2375", { DOCKER_TLS_VERIFY: "1" })).toMatchObject({ protocol: "https", port: 2375 });
  });

  test("port 2376 means TLS even without DOCKER_TLS_VERIFY", () => {
    expect(parseDockerHost("tcp://10.0.0.5:2376", {})).toMatchObject({ protocol: "https", port: 2376 });
  });

  test("with TLS, ca/cert/key are read from DOCKER_CERT_PATH", () => {
    const connection = parseDockerHost("tcp://10.0.0.5:2376", { DOCKER_CERT_PATH: certDir });
    expect(connection.ca?.toString()).toBe("-----BEGIN ca.pem-----\n");
    expect(connection.cert?.toString()).toBe("-----BEGIN cert.pem-----\n");
    expect(connection.key?.toString()).toBe("-----BEGIN key.pem-----\n");
  });

  test("without TLS, DOCKER_CERT_PATH is not read", () => {
    expect(parseDockerHost("tcp://10.0.0.5", { DOCKER_CERT_PATH: emptyDir })).not.toHaveProperty("ca");
  });

  test("a missing certificate file is a clear error naming the file", () => {
    const error = failure("tcp://10.0.0.5", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: emptyDir });
    expect(error.message).toBe(`cannot read TLS file ${join(emptyDir, "ca.pem")}`);
    expect(error).toMatchObject({ code: "DOCKER_TLS_FILE", exitCode: 2 });
    expect(error.hint).toContain("ca.pem, cert.pem and key.pem");
  });
});

describe("parseDockerHost: ssh", () => {
  test("user, host and port, with the agent from SSH_AUTH_SOCK", () => {
    const connection = parseDockerHost("ssh://deploy@build.example.com:2222", { SSH_AUTH_SOCK: "/run/agent.sock" });
    expect(connection).toMatchObject({
      protocol: "ssh",
      host: "build.example.com",
      port: 2222,
      username: "deploy",
      sshOptions: { agent: "/run/agent.sock" },
      shown: "ssh://deploy@build.example.com:2222",
    });
    // Host keys are checked against known_hosts (an unknown host is refused).
    expect(connection.sshOptions?.hostVerifier?.(Buffer.from("not a known key"))).toBe(false);
  });

  test("port 22 and no user by default", () => {
    expect(parseDockerHost("ssh://build.example.com", {})).toMatchObject({ protocol: "ssh", port: 22, username: undefined });
  });
});

describe("parseDockerHost: bad hosts", () => {
  test("an unsupported scheme", () => {
    expect(failure("ftp://10.0.0.5").message).toBe('docker host "ftp://10.0.0.5": unsupported scheme ftp');
    expect(failure("npipe:////./pipe/docker_engine").message).toContain("unsupported scheme npipe");
  });

  test("not a URL at all", () => {
    expect(failure("10.0.0.5:2375").message).toContain("10.0.0.5:2375");
    expect(failure("just words").message).toBe('docker host "just words": not a URL');
  });
});

describe("DockerClient", () => {
  test("DOCKER_HOST in the environment does not override the host it is given", async () => {
    const { DockerClient } = await import("../../src/docker/client.ts");
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "tcp://1.2.3.4:2376";
    try {
      const modem = (new DockerClient("unix:///run/engine.sock").api as unknown as { modem: { socketPath?: string; host?: string } }).modem;
      expect(modem.socketPath).toBe("/run/engine.sock");
      expect(modem.host).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
