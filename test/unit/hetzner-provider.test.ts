// The hetzner provider against test/support/hetzner-fake.ts: a local HTTP server implementing the
// Hetzner Cloud API endpoints the provider uses as Hetzner's public documentation describes them,
// because the real API cannot be reached from the test machines. Real HTTP, real fetch; the
// "server's" SSH port is a TCP listener on the address the fake hands out (test/support/hetzner-scenario.ts).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { utils } from "ssh2";
import { DockernetError } from "../../src/core/errors.ts";
import type { LogFields } from "../../src/core/logger.ts";
import { bridgeSection } from "../../src/modes/bridge/config.ts";
import { ServerLifecycle } from "../../src/modes/bridge/server/lifecycle.ts";
import { HetznerApi } from "../../src/modes/bridge/server/providers/hetzner/_api.ts";
import { HetznerProvider } from "../../src/modes/bridge/server/providers/hetzner/provider.ts";
import { fastHetzner as fast, freeSshPort, hetznerScenario, listenSsh, SERVER_IP, type Cleanups, type ScenarioOptions } from "../support/hetzner-scenario.ts";

type Line = { level: string; message: string; fields?: LogFields };

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const savedEnv = { HCLOUD_TOKEN: process.env.HCLOUD_TOKEN, HCLOUD_ENDPOINT: process.env.HCLOUD_ENDPOINT };
beforeEach(() => {
  delete process.env.HCLOUD_TOKEN;
  delete process.env.HCLOUD_ENDPOINT;
});
afterEach(() => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** The fake API, the user's key pair on disk, and a provider configured for both (test/support/hetzner-scenario.ts). */
const scenario = (options: ScenarioOptions = {}) => hetznerScenario(cleanups, options);

/** Call names with repeats in a row folded (action polls), for comparing sequences. */
const folded = (names: string[]) => names.filter((name, i) => name !== names[i - 1]);

const infoLines = (log: { lines: Line[] }) => log.lines.filter((line) => line.level === "info").map((line) => line.message);

async function rejection(promise: Promise<unknown>): Promise<DockernetError> {
  const error = await promise.then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(DockernetError);
  return error as DockernetError;
}

describe("hetzner provider: creating a server", () => {
  test("uploads the SSH key, creates the volume, then the labelled server, polling each action", async () => {
    const { fake, provider, log, userKey } = await scenario();
    await provider.ensure(log);

    expect(folded(fake.callNames().map((name) => name.replace(/\d+$/, "{id}")))).toEqual([
      "GET /servers",
      "GET /server_types",
      "GET /ssh_keys",
      "POST /ssh_keys",
      "GET /volumes",
      "POST /volumes",
      "GET /actions/{id}",
      "POST /servers",
      "GET /actions/{id}",
    ]);
    const call = (name: string) => fake.calls.find((entry) => entry.call === name)!;
    expect(call("GET /servers").query).toMatchObject({ name: "dockernet-bridge", label_selector: "dockernet=bridge" });
    expect(call("GET /server_types").query).toMatchObject({ name: "cx22" });
    expect(call("GET /ssh_keys").query.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(call("POST /ssh_keys").body).toEqual({ name: expect.stringMatching(/^dockernet-[0-9a-f]{12}$/), public_key: userKey.publicLine, labels: { dockernet: "bridge" } });
    expect(call("POST /volumes").body).toEqual({ name: "dockernet-bridge-docker", size: 20, location: "fsn1", format: "ext4", labels: { dockernet: "bridge" } });
    const [sshKey] = [...fake.sshKeys.values()];
    const [volume] = [...fake.volumes.values()];
    expect(call("POST /servers").body).toMatchObject({
      name: "dockernet-bridge",
      server_type: "cx22",
      location: "fsn1",
      image: "debian-12",
      ssh_keys: [sshKey!.id],
      volumes: [volume!.id],
      automount: false,
      labels: { dockernet: "bridge" },
      user_data: expect.stringMatching(/^#cloud-config\n/),
    });

    // Every action (create_volume; create_server, start_server, attach_volume) polled until it succeeded.
    const actions = [...fake.actions.values()];
    expect(actions.map((action) => action.command)).toEqual(["create_volume", "create_server", "start_server", "attach_volume"]);
    for (const action of actions) {
      expect(action.status).toBe("success");
      expect(fake.callNames()).toContain(`GET /actions/${action.id}`);
    }
    expect(infoLines(log)).toEqual(["creating server", "uploading SSH key", "creating the Docker volume", "server created", "waiting for SSH", "SSH answers"]);
    expect([...fake.servers.values()][0]).toMatchObject({ status: "running", labels: { dockernet: "bridge" }, volumes: [volume!.id] });
  });

  test("returns the server's address from the API, the SSH port from `host`, the price and the host key it gave the server", async () => {
    const { fake, provider, log, sshPort } = await scenario();
    const server = await provider.ensure(log);

    expect(server).toMatchObject({ name: "dockernet-bridge", host: SERVER_IP, port: sshPort, user: "root", createdByBridge: true, hourlyPrice: "€0.0060/h gross" });
    const { privateKey, publicKey } = fake.hostKey();
    expect(server.hostKey).toEqual({ type: "ssh-ed25519", key: publicKey.split(" ")[1]! });
    // The private key in user_data is a valid OpenSSH key whose public half is the one returned.
    const parsed = utils.parseKey(privateKey);
    if (parsed instanceof Error) throw parsed;
    expect(parsed.type).toBe("ssh-ed25519");
    expect(parsed.getPublicSSH().toString("base64")).toBe(server.hostKey!.key);
    expect(parsed.verify("challenge", parsed.sign("challenge"))).toBe(true);
  });

  test("the cloud-init installs the host key alone, mounts the volume at /var/lib/docker, then installs docker.io", async () => {
    const { fake, provider, log } = await scenario();
    await provider.ensure(log);
    const cloud = fake.cloudConfig("dockernet-bridge");
    expect(cloud).toMatchObject({ disable_root: false, ssh_deletekeys: true, ssh_genkeytypes: [] });
    expect(Object.keys(cloud.ssh_keys as object).sort()).toEqual(["ed25519_private", "ed25519_public"]);

    const bootcmd = cloud.bootcmd as string[][];
    expect(bootcmd).toHaveLength(1);
    const [shell, flags, script = ""] = bootcmd[0]!;
    expect([shell, flags]).toEqual(["sh", "-ec"]);
    execFileSync("sh", ["-n", "-c", script]); // parses as shell
    const [volume] = [...fake.volumes.values()];
    expect(script).toContain(`dev=${String(volume!.linux_device)}`);
    const order = ["/var/lib/docker ext4", "mount /var/lib/docker", "RequiresMountsFor=/var/lib/docker", "apt-get install -y -q docker.io"].map((part) => script.indexOf(part));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(String(fake.userData.get("dockernet-bridge"))).not.toContain("packages:");
  });

  test("the cloud-init keeps containers from the metadata service (it hands out the user data): a DOCKER-USER reject, in place before Docker first starts", async () => {
    const { fake, provider, log } = await scenario();
    await provider.ensure(log);
    const script = (fake.cloudConfig("dockernet-bridge").bootcmd as string[][])[0]![2]!;
    execFileSync("sh", ["-n", "-c", script]);
    const dropIn = "ExecStartPost=/bin/sh -c 'iptables -C DOCKER-USER -d 169.254.169.254/32 -j REJECT 2>/dev/null || iptables -I DOCKER-USER -d 169.254.169.254/32 -j REJECT'";
    expect(script).toContain(`cat > /etc/systemd/system/docker.service.d/dockernet-no-metadata.conf <<'EOF'\n[Service]\n${dropIn}\nEOF\n`);
    expect(script.indexOf(dropIn)).toBeLessThan(script.indexOf("apt-get install -y -q docker.io"));
  });

  test("two Docker clients arriving together create one server (the bridge's lifecycle shares the ensure)", async () => {
    const { fake, provider, log } = await scenario();
    const servers = new ServerLifecycle(provider, log);
    const [first, second] = await Promise.all([servers.ensure(), servers.ensure()]);
    expect(second).toEqual(first);
    expect(fake.callNames().filter((name) => name === "POST /servers")).toHaveLength(1);
  });

  test("waits for SSH until the port answers", async () => {
    const port = await freeSshPort();
    const { provider, log } = await scenario({ sshPort: port });
    const ensured = provider.ensure(log);
    while (!infoLines(log).includes("waiting for SSH")) await Bun.sleep(10);
    await Bun.sleep(300); // probes every 50 ms meanwhile, each refused
    expect(infoLines(log)).not.toContain("SSH answers");
    const opened = Date.now();
    await listenSsh(cleanups, port);
    const server = await ensured;
    expect(Date.now() - opened).toBeLessThan(1000);
    expect(server.port).toBe(port);
    expect(infoLines(log).slice(-2)).toEqual(["waiting for SSH", "SSH answers"]);
  });

  test("a server whose SSH never answered hands its host key to the next ensure", async () => {
    const port = await freeSshPort();
    const { fake, provider, log } = await scenario({ sshPort: port, provider: { sshTimeoutMs: 300 } });
    const error = await rejection(provider.ensure(log));
    expect(error.code).toBe("HETZNER_SSH_TIMEOUT");
    expect(error.message).toContain(`${SERVER_IP}:${port}`);

    await listenSsh(cleanups, port);
    const server = await provider.ensure(log);
    expect(fake.callNames().filter((name) => name === "POST /servers")).toHaveLength(1);
    expect(server.hostKey?.key).toBe(fake.hostKey().publicKey.split(" ")[1]!);
    // Once handed over, a reconnect gets no key to record again.
    expect((await provider.ensure(log)).hostKey).toBeUndefined();
  });

  test("a create action that ends in error is reported and the broken server removed", async () => {
    const { fake, provider, log } = await scenario();
    fake.failAction("create_server", { code: "server_error", message: "host is broken" });
    const error = await rejection(provider.ensure(log));
    expect(error.code).toBe("HETZNER_ACTION_FAILED");
    expect(error.message).toContain("create_server");
    expect(error.message).toContain("host is broken");
    expect(fake.callNames()).toContainEqual(expect.stringMatching(/^DELETE \/servers\/\d+$/));
    expect(fake.servers.size).toBe(0);
  });
});

describe("hetzner provider: existing servers", () => {
  test("a labelled server of that name is used as it is: nothing created, no host key to record", async () => {
    const { fake, provider, log, sshPort } = await scenario();
    fake.addServer({ name: "dockernet-bridge", labels: { dockernet: "bridge" }, ip: SERVER_IP, serverType: "cpx11" });
    const server = await provider.ensure(log);
    expect(server).toEqual({ name: "dockernet-bridge", host: SERVER_IP, port: sshPort, user: "root", createdByBridge: true, hourlyPrice: "€0.0083/h gross" });
    expect(fake.callNames()).toEqual(["GET /servers"]);
    expect(infoLines(log)).toEqual(["using the existing server"]);
  });

  test("a same-named server without the label is not taken over", async () => {
    const { fake, provider, log } = await scenario();
    fake.addServer({ name: "dockernet-bridge", labels: { owner: "someone" } });
    const error = await rejection(provider.ensure(log));
    expect(error.code).toBe("HETZNER_SERVER_FOREIGN");
    expect(error.message).toContain("dockernet-bridge");
    expect(error.hint).toContain("server_name");
    expect(fake.servers.size).toBe(1);
  });

  test("destroy deletes the server and keeps the volume; the next ensure uses the volume and the uploaded key", async () => {
    const { fake, provider, log } = await scenario();
    await provider.ensure(log);
    const [volume] = [...fake.volumes.values()];
    const id = [...fake.servers.keys()][0]!;
    fake.calls.length = 0;

    await provider.destroy(log);
    // By the id it created (no lookup by name), a shutdown first, the delete once the server is off.
    const action = expect.stringMatching(/^GET \/actions\/\d+$/);
    expect(folded(fake.callNames())).toEqual([`GET /servers/${id}`, `POST /servers/${id}/actions/shutdown`, action, `GET /servers/${id}`, `DELETE /servers/${id}`, action]);
    expect(fake.servers.size).toBe(0);
    expect(fake.volumes.get(volume!.id as number)).toMatchObject({ server: null, name: "dockernet-bridge-docker" });
    expect(infoLines(log)).toContain("server destroyed; its Docker volume is kept");

    fake.calls.length = 0;
    const again = await provider.ensure(log);
    expect(fake.callNames()).not.toContain("POST /volumes");
    expect(fake.callNames()).not.toContain("POST /ssh_keys");
    expect(fake.cloudConfig().bootcmd).toEqual([["sh", "-ec", expect.stringContaining(String(volume!.linux_device))]]);
    expect(again.hostKey?.key).toBe(fake.hostKey().publicKey.split(" ")[1]!);
    expect(fake.volumes.get(volume!.id as number)!.server).toBe([...fake.servers.keys()][0]!);
  });

  test("a server whose OS ignores the shutdown is deleted after shutdown_timeout, with a warning", async () => {
    const { fake, provider, log } = await scenario({ config: { shutdown_timeout: 300 } });
    await provider.ensure(log);
    fake.ignoresShutdown = true;
    const started = Date.now();
    await provider.destroy(log);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(fake.servers.size).toBe(0);
    expect(log.lines.filter((line) => line.level === "warn").map((line) => line.message)).toEqual(["the server did not shut down in time; deleting it anyway"]);
  });

  test("a second bridge with the same server_name neither adopts nor destroys the first one's server", async () => {
    const { fake, provider, log, config } = await scenario({ config: { socket: "/run/user/1000/first.sock" } });
    await provider.ensure(log);
    const [first] = [...fake.servers.values()];
    const other = new HetznerProvider({ ...config, socket: "/run/user/1000/second.sock" }, fast);
    const error = await rejection(other.ensure(log));
    expect(error.code).toBe("HETZNER_SERVER_OTHER_BRIDGE");
    expect(error.message).toContain(`id ${first!.id}`);
    expect(error.hint).toContain("server_name");
    fake.calls.length = 0;
    await other.destroy(log);
    expect(fake.callNames().filter((call) => call.startsWith("DELETE") || call.includes("shutdown"))).toEqual([]);
    expect(fake.servers.size).toBe(1);
    // The first bridge, restarted on its socket, is the same owner: it adopts and destroys its own.
    const restarted = new HetznerProvider(config, fast);
    await restarted.destroy(log);
    expect(fake.servers.size).toBe(0);
  });

  test("destroy without a server does nothing", async () => {
    const { fake, provider, log } = await scenario();
    await provider.destroy(log);
    expect(fake.callNames()).toEqual(["GET /servers"]);
  });

  test("list: every labelled server, across pages", async () => {
    const { fake, provider } = await scenario();
    for (let i = 0; i < 120; i++) fake.addServer({ name: `bridge-${i}`, labels: { dockernet: "bridge" } });
    for (let i = 0; i < 5; i++) fake.addServer({ name: `other-${i}`, labels: { team: "web" } });
    const servers = await provider.list();
    expect(servers).toHaveLength(120);
    expect(new Set(servers.map((server) => server.name)).size).toBe(120);
    expect(servers.every((server) => server.name.startsWith("bridge-"))).toBe(true);
    expect(servers[0]).toEqual({ name: "bridge-0", id: expect.stringMatching(/^\d+$/), status: "running", address: expect.stringMatching(/^203\.0\.113\.\d+$/), created: expect.any(String) });
    expect(fake.calls.map((call) => [call.call, call.query.page, call.query.per_page, call.query.label_selector])).toEqual([
      ["GET /servers", "1", "50", "dockernet=bridge"],
      ["GET /servers", "2", "50", "dockernet=bridge"],
      ["GET /servers", "3", "50", "dockernet=bridge"],
    ]);
  });

  test("destroyNamed removes that labelled server only; an unknown or unlabelled name is a clear error", async () => {
    const { fake, provider, log } = await scenario();
    fake.addServer({ name: "old-bridge", labels: { dockernet: "bridge" } });
    fake.addServer({ name: "keep-me", labels: { dockernet: "bridge" } });
    fake.addServer({ name: "users-own" });
    await provider.destroyNamed("old-bridge", log);
    expect([...fake.servers.values()].map((server) => server.name).sort()).toEqual(["keep-me", "users-own"]);

    for (const name of ["nope", "users-own"]) {
      const error = await rejection(provider.destroyNamed(name, log));
      expect(error.code).toBe("HETZNER_NOT_FOUND");
      expect(error.message).toBe(`no server named ${name} labelled dockernet=bridge`);
      expect(error.hint).toContain("server list");
    }
    expect(fake.servers.size).toBe(2);
  });
});

describe("hetzner provider: token, endpoint and API errors", () => {
  test("no token: a usage error (exit 2) that says where to put one", () => {
    const thrown = (() => {
      try {
        new HetznerProvider({ ...bridgeSection.defaults, hetzner: { ...bridgeSection.defaults.hetzner, token: "" } });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(DockernetError);
    expect((thrown as DockernetError).exitCode).toBe(2);
    expect((thrown as DockernetError).hint).toContain("HCLOUD_TOKEN");
  });

  test("HCLOUD_TOKEN and HCLOUD_ENDPOINT stand in for the config", async () => {
    const { fake } = await scenario();
    fake.addServer({ name: "found", labels: { dockernet: "bridge" } });
    process.env.HCLOUD_TOKEN = fake.token;
    process.env.HCLOUD_ENDPOINT = fake.endpoint;
    const servers = await new HetznerProvider({ ...bridgeSection.defaults }, fast).list();
    expect(servers.map((server) => server.name)).toEqual(["found"]);
  });

  test("a 401 is an error naming the call, Hetzner's code and message, not retried", async () => {
    const { fake, config, log } = await scenario();
    const provider = new HetznerProvider({ ...config, hetzner: { ...config.hetzner, token: "wrong" } }, fast);
    const error = await rejection(provider.ensure(log));
    expect(error.message).toBe("Hetzner API GET /servers failed: unauthorized: unable to authenticate (HTTP 401)");
    expect(error.code).toBe("HETZNER_UNAUTHORIZED");
    expect(error.hint).toContain("HCLOUD_TOKEN");
    expect(fake.calls.map((call) => [call.call, call.status])).toEqual([["GET /servers", 401]]);
  });

  test("a 422 is an error naming the call and the invalid fields, not retried", async () => {
    const { fake, provider, log } = await scenario({ hetzner: { image: "debian-99" } });
    const error = await rejection(provider.ensure(log));
    expect(error.message).toBe("Hetzner API POST /servers failed: invalid_input: invalid input in field 'image' (HTTP 422; image: image debian-99 not found)");
    expect(error.code).toBe("HETZNER_INVALID_INPUT");
    expect(fake.calls.filter((call) => call.call === "POST /servers").map((call) => call.status)).toEqual([422]);

    // Missing fields, as the API reports them.
    const api = new HetznerApi({ endpoint: fake.endpoint, token: fake.token, log });
    const missing = await rejection(api.call("POST", "/servers", { body: { name: "x" } }));
    expect(missing.message).toBe("Hetzner API POST /servers failed: invalid_input: invalid input in fields 'server_type', 'image' (HTTP 422; server_type: Missing data for required field.; image: Missing data for required field.)");
  });

  test("a 503 is retried with backoff, then the call passes", async () => {
    const { fake, provider, log } = await scenario();
    fake.failNext("GET /servers", 503, { times: 2 });
    const server = await provider.ensure(log);
    expect(server.host).toBe(SERVER_IP);
    expect(fake.calls.slice(0, 3).map((call) => [call.call, call.status])).toEqual([
      ["GET /servers", 503],
      ["GET /servers", 503],
      ["GET /servers", 200],
    ]);
    const retries = log.lines.filter((line) => line.message === "Hetzner API call failed, trying again");
    expect(retries.map((line) => line.fields?.attempt)).toEqual([1, 2]);
    expect(String(retries[0]?.fields?.error)).toContain("unavailable: service unavailable (HTTP 503)");
  });

  test("a 429 that does not stop fails after the attempts, naming the call", async () => {
    const { fake, provider, log } = await scenario({ provider: { retry: { attempts: 3, initialMs: 10, maxMs: 20 } } });
    fake.failNext("GET /servers", 429, { times: 10 });
    const error = await rejection(provider.ensure(log));
    expect(error.message).toBe("Hetzner API GET /servers failed: rate_limit_exceeded: limit of 3600 requests per hour reached (HTTP 429)");
    expect(fake.calls).toHaveLength(3);
  });

  test("no public key beside the identity: a clear usage error", async () => {
    const { provider, log, config } = await scenario();
    rmSync(`${config.identity}.pub`);
    const error = await rejection(provider.ensure(log));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`${config.identity}.pub`);
    expect(error.hint).toContain("ssh-keygen -y");
  });
});
