import * as v from "valibot";
import { show } from "../../../../../config/_quote.ts";
import { name, string } from "../../../../../config/schema.ts";
import { secret, section } from "../../../../../config/spec.ts";

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
  }),
  {
    token: "",
    endpoint: "",
    server_name: "dockernet-bridge",
    server_type: "cx22",
    location: "fsn1",
    image: "debian-12",
    volume_size: 20,
  },
);

/** The resolved `[bridge.hetzner]` block. */
export type HetznerConfig = v.InferOutput<typeof hetznerSection.schema>;
