/**
 * The Hetzner provider's set-up, once for every test that drives it: the local API fake
 * (hetzner-fake.ts), the user's key pair on disk, a TCP listener standing in for the server's
 * sshd on the address the fake hands out, and a provider configured for all three.
 *
 * ```ts
 * const { fake, provider, log } = await hetznerScenario(cleanups);
 * await provider.ensure(log);             // POST /servers on the fake, then the "sshd" answers
 * ```
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bridgeSection, type BridgeConfig } from "../../src/modes/bridge/config.ts";
import type { HetznerConfig } from "../../src/modes/bridge/server/providers/hetzner/config.ts";
import { HetznerProvider, type HetznerProviderOptions } from "../../src/modes/bridge/server/providers/hetzner/provider.ts";
import { generateEd25519 } from "../../src/modes/bridge/server/providers/hetzner/_ssh-key-format.ts";
import { fakeLogger } from "./fake-logger.ts";
import { HetznerFake } from "./hetzner-fake.ts";

/** Loopback, but not 127.0.0.1: the address the provider connects to can only come from the fake. */
export const SERVER_IP = "127.0.0.2";

/** Waits and retries short enough for tests. */
export const fastHetzner: HetznerProviderOptions = { pollIntervalMs: 10, sshRetryMs: 50, sshTimeoutMs: 5000, retry: { initialMs: 20, maxMs: 100 } };

/** What a test registers to be undone after it (in reverse). */
export type Cleanups = (() => Promise<void> | void)[];

const portOf = (server: Server) => (server.address() as { port: number }).port;

/** A TCP listener on SERVER_IP standing in for the server's sshd (`port` 0: any free one). */
export async function listenSsh(cleanups: Cleanups, port = 0): Promise<number> {
  const server = createServer((socket) => socket.end("SSH-2.0-fake\r\n"));
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, SERVER_IP, () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return portOf(server);
}

/** A free port on SERVER_IP, nothing listening on it (yet). */
export async function freeSshPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, SERVER_IP, () => resolve()));
  const port = portOf(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface ScenarioOptions {
  /** The "sshd" port (default: a listener opened here). */
  sshPort?: number;
  config?: Partial<BridgeConfig>;
  hetzner?: Partial<HetznerConfig>;
  provider?: HetznerProviderOptions;
  /** How long the fake's actions run (default: the fake's). */
  actionDelayMs?: number;
}

/** The fake API, the user's key pair on disk, and a provider configured for both (see the module comment). */
export async function hetznerScenario(cleanups: Cleanups, options: ScenarioOptions = {}) {
  const fake = await HetznerFake.start({ serverIp: SERVER_IP, ...(options.actionDelayMs === undefined ? {} : { actionDelayMs: options.actionDelayMs }) });
  cleanups.push(() => fake.close());
  const dir = mkdtempSync(join(tmpdir(), "hetzner-test-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const userKey = generateEd25519("dev@laptop");
  const identity = join(dir, "id_ed25519");
  writeFileSync(identity, userKey.privateOpenssh, { mode: 0o600 });
  writeFileSync(`${identity}.pub`, `${userKey.publicLine}\n`);
  const sshPort = options.sshPort ?? (await listenSsh(cleanups));
  const hetzner: HetznerConfig = { ...bridgeSection.defaults.hetzner, token: fake.token, endpoint: fake.endpoint, ...options.hetzner };
  const config: BridgeConfig = { ...bridgeSection.defaults, identity, host: `ssh://root@server:${sshPort}`, ...options.config, hetzner };
  const log = fakeLogger();
  return { fake, config, log, userKey, sshPort, provider: new HetznerProvider(config, { ...fastHetzner, ...options.provider }) };
}
