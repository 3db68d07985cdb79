/**
 * Plays the cloud for the bridge's `hetzner` provider: every server the local Hetzner API fake
 * creates "boots" as the remote test host, with the host key the provider put into its
 * cloud-init (so the bridge's own host-key check passes, as it would on a real server), and sshd
 * started only then (as cloud-init starts sshd after installing the key).
 *
 * ```ts
 * await remote.stopSshd();                 // no server yet
 * await using cloud = serveCreatedServers(fake, remote);
 * // ... bridge start --provider hetzner: POST /servers -> the test sshd starts with the new key
 * ```
 */
import { sleep } from "./_exec.ts";
import type { HetznerFake } from "./hetzner-fake.ts";
import type { RemoteHost } from "./remote-host.ts";

export interface CloudPlay extends AsyncDisposable {
  /** How many servers have booted so far. */
  readonly booted: number;
  /** The last error of the loop, if any. */
  readonly error: unknown;
}

/** Created servers answered so far: `POST /servers` calls that succeeded. */
function createdCount(fake: HetznerFake): number {
  return fake.calls.filter((call) => call.call === "POST /servers" && call.status === 201).length;
}

/** Boots each server the fake creates on `remote` (see the module comment) until disposed. */
export function serveCreatedServers(fake: HetznerFake, remote: RemoteHost): CloudPlay {
  let stopped = false;
  let booted = createdCount(fake);
  let error: unknown;
  const loop = (async () => {
    while (!stopped) {
      if (createdCount(fake) > booted) {
        booted = createdCount(fake);
        try {
          await remote.stopSshd();
          await remote.setHostKey(fake.hostKey());
          await remote.startSshd();
        } catch (failure) {
          error = failure;
        }
      }
      await sleep(50);
    }
  })();
  return {
    get booted() {
      return booted;
    },
    get error() {
      return error;
    },
    async [Symbol.asyncDispose]() {
      stopped = true;
      await loop;
    },
  };
}
