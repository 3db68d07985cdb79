import * as v from "valibot";
import { show } from "../../../../../config/_quote.ts";
import { matching, name, string } from "../../../../../config/schema.ts";
import { secret, section } from "../../../../../config/spec.ts";

/** A path on the server, put on a remote command line unquoted: letters, digits and _ . / - only. */
const remotePath = matching(/^\/[A-Za-z0-9_./-]+$/, "an absolute path (letters, digits, _ . / -)");

/** The `[bridge.hetzner]` block: the API, and the server (and its Docker volume) created on demand. */
export const hetznerSection = section(
  v.strictObject({
    /** Hetzner Cloud API token; "": $HCLOUD_TOKEN. */
    token: secret(string()),
    /** Hetzner Cloud API endpoint; "": $HCLOUD_ENDPOINT, else https://api.hetzner.cloud/v1. */
    endpoint: v.pipe(string(), v.check((value) => value === "" || /^https?:\/\/\S+$/.test(value), (issue) => `${show(issue.input)} is not an http(s) URL`)),
    server_name: name,
    server_type: name,
    location: name,
    image: name,
    /** Size of the volume that keeps /var/lib/docker across destroy, in GB. */
    volume_size: v.pipe(v.union([v.number(), v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number))], "must be a number of GB"), v.integer("must be whole GB"), v.minValue(10, "must be at least 10 (GB)")),
    /** On the server: sshd's ed25519 host key, replaced after the first verified login (the bootstrap key travelled in the user data). */
    host_key_file: remotePath,
    /** On the server: sshd's PID file, sent SIGHUP to load the new host key. */
    sshd_pid_file: remotePath,
  }),
  {
    token: "",
    endpoint: "",
    server_name: "dockernet-bridge",
    server_type: "cx22",
    location: "fsn1",
    image: "debian-12",
    volume_size: 20,
    host_key_file: "/etc/ssh/ssh_host_ed25519_key",
    sshd_pid_file: "/run/sshd.pid",
  },
);

/** The resolved `[bridge.hetzner]` block. */
export type HetznerConfig = v.InferOutput<typeof hetznerSection.schema>;
