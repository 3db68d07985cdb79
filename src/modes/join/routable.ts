import type { JoinConfig } from "./config.ts";

export type { JoinConfig } from "./config.ts";

/** Traefik's own switch: a container that sets it to false is never routed, whatever else it carries. */
export const optOutLabel = "traefik.enable";

// Traefik reads the value with Go's strconv.ParseBool.
const falseValues = new Set(["0", "f", "false"]);

/** Whether a container is routable, and what decided it (for `join status` and logs). */
export interface Routability {
  routable: boolean;
  by: string;
}

/** The verdict of the labels alone; undefined when only the environment can tell. */
export function routableByLabels(labels: Record<string, string>, config: JoinConfig): Routability | undefined {
  const optOut = labels[optOutLabel];
  if (optOut !== undefined && falseValues.has(optOut.toLowerCase())) return { routable: false, by: `label ${optOutLabel}=${optOut}` };
  const label = Object.keys(labels)
    .sort()
    .find((key) => config.label_prefixes.some((prefix) => key.startsWith(prefix)));
  if (label !== undefined) return { routable: true, by: `label ${label}` };
  if (config.env_vars.length === 0) return { routable: false, by: "no routing label" };
  return undefined;
}

/** The names from `join.env_vars` that a container's environment (`KEY=VALUE` entries) sets. */
export function routingEnvNames(env: readonly string[], config: JoinConfig): string[] {
  const names = new Set(env.map((entry) => entry.split("=", 1)[0]));
  return config.env_vars.filter((name) => names.has(name));
}

/** The full verdict: labels first, then the routing env var names (`routingEnvNames`), if read. */
export function routability(labels: Record<string, string>, envNames: readonly string[] | undefined, config: JoinConfig): Routability {
  const byLabels = routableByLabels(labels, config);
  if (byLabels !== undefined) return byLabels;
  const name = envNames?.[0];
  return name === undefined ? { routable: false, by: "no routing label or env var" } : { routable: true, by: `env ${name}` };
}
