import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { show } from "../../config/_quote.ts";
import { durationSchema } from "../../config/duration.ts";
import { booleanSchema, matching, oneOf, string } from "../../config/schema.ts";
import { block, section } from "../../config/spec.ts";
import { providerNames, providers } from "./server/providers/registry.ts";
import { sshUrlProblem } from "./server/providers/ssh-url.ts";

/** A path, absolute or relative to the working directory, or "" for the default. */
const pathOrDefault = matching(/^[^\u0000-\u001f\u007f]*$/, "a path");

/** The `[bridge]` section. Durations are milliseconds; "" means the default described. */
export const bridgeSection = section(
  v.strictObject({
    /** The server: `ssh://user@host[:port]` (the ssh provider), or where a provider's server is reached. */
    host: v.pipe(
      string(),
      v.check((value) => value === "" || sshUrlProblem(value) === undefined, (issue) => `${show(issue.input)} ${sshUrlProblem(String(issue.input))}`),
    ),
    /** The private key; "": the SSH agent, else ~/.ssh/id_ed25519, else ~/.ssh/id_rsa. */
    identity: pathOrDefault,
    /** The Docker socket on the server. */
    remote_socket: matching(/^\/[A-Za-z0-9_./-]+$/, "an absolute socket path (letters, digits, _ . / -)"),
    /** The local socket; "": ~/.dockernet/bridge.sock. */
    socket: pathOrDefault,
    /** Record a host key seen for the first time (in known_hosts) instead of refusing it. */
    accept_new_host_key: booleanSchema,
    /** dockernet's own known_hosts file, beside OpenSSH's; "": ~/.dockernet/known_hosts. */
    known_hosts: pathOrDefault,
    /** A name in server/providers/registry.ts: `ssh` (an existing host) or `hetzner` (a server created on demand). */
    provider: oneOf(providerNames),
    /** With a provider that creates servers: destroy the server after this long without activity. */
    idle_timeout: durationSchema,
    /** A container running on the server counts as use (one labelled `dockernet.bridge.idle=ignore` does not). */
    idle_counts_running: booleanSchema,
    /** A destroy asks the server to shut down first and waits this long for it to be off, then deletes it. */
    shutdown_timeout: durationSchema,
    /** How long a created server may take to answer SSH; past it the server is deleted and the start fails. */
    create_timeout: durationSchema,
    /** A server a failed start created is kept (for debugging) instead of deleted. */
    keep_on_failure: booleanSchema,
    /** Warned in the log this long before an idle server is destroyed. */
    grace_period: durationSchema,
    /** An open connection counts as activity for at most this long. */
    connection_timeout: durationSchema,
    /** How long a new Docker connection waits for the SSH link before it is closed. */
    connect_timeout: durationSchema,
    /** A busy local port: `increment` binds requested+1000 … +1999; `fail` reports and skips. */
    port_conflict: oneOf(["increment", "fail"] as const),
    /** Each provider's own settings, as a block: `[bridge.hetzner]`. */
    hetzner: block(providers.hetzner.config),
  }),
  {
    host: "",
    identity: "",
    remote_socket: "/var/run/docker.sock",
    socket: "",
    accept_new_host_key: false,
    known_hosts: "",
    provider: "ssh",
    idle_timeout: 300_000,
    idle_counts_running: true,
    shutdown_timeout: 60_000,
    create_timeout: 900_000,
    keep_on_failure: false,
    grace_period: 30_000,
    connection_timeout: 1_800_000,
    connect_timeout: 30_000,
    port_conflict: "increment",
    hetzner: providers.hetzner.config.defaults,
  },
);

/** The resolved `[bridge]` section. */
export type BridgeConfig = v.InferOutput<typeof bridgeSection.schema>;

/** ~/.dockernet: the bridge's socket, its control socket and lock, and dockernet's known_hosts. */
export function dockernetHome(): string {
  return join(homedir(), ".dockernet");
}

/** The local socket path, the default filled in. */
export function socketPath(config: BridgeConfig): string {
  return config.socket === "" ? join(dockernetHome(), "bridge.sock") : config.socket;
}

/** The control socket beside the main one. */
export function controlPath(socket: string): string {
  return `${socket}.ctl`;
}

/** The lock (PID file) beside the main socket. */
export function lockPath(socket: string): string {
  return `${socket}.pid`;
}
