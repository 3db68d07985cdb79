/** A route as `ip -json route show` prints it (the fields dockernet reads). */
export interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  table?: string;
  mtu?: number;
  mtuLocked?: boolean;
}

/** A policy rule as `ip -json rule show` prints it. */
export interface IpRule {
  priority: number;
  table: string;
  src?: string;
  suppressPrefixLength?: number;
  /** Every field `ip` printed (selectors such as `dst`/`dstlen`, `ipproto`, `dport_start`). */
  raw: Record<string, unknown>;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/** Parses the JSON array of `ip -json route show`, ignoring what dockernet does not use. */
export function parseRoutes(json: unknown): IpRoute[] {
  if (!Array.isArray(json)) return [];
  return json.map((entry) => {
    const raw = record(entry);
    const route: IpRoute = { dst: optionalString(raw.dst) ?? "" };
    route.type = optionalString(raw.type);
    route.gateway = optionalString(raw.gateway);
    route.dev = optionalString(raw.dev);
    route.protocol = optionalString(raw.protocol);
    route.scope = optionalString(raw.scope);
    route.table = optionalString(raw.table);
    if (typeof raw.metric === "number") route.metric = raw.metric;
    for (const metric of Array.isArray(raw.metrics) ? raw.metrics : []) {
      const mtu = record(metric).mtu;
      if (typeof mtu === "number") route.mtu = mtu;
      else if (typeof record(mtu).mtu === "number") {
        route.mtu = record(mtu).mtu as number;
        route.mtuLocked = true;
      }
    }
    return route;
  });
}

/** Parses the JSON array of `ip -json rule show`. */
export function parseRules(json: unknown): IpRule[] {
  if (!Array.isArray(json)) return [];
  return json.map((entry) => {
    const raw = record(entry);
    const rule: IpRule = { priority: Number(raw.priority ?? 0), table: optionalString(raw.table) ?? "", raw };
    rule.src = optionalString(raw.src);
    if (typeof raw.suppress_prefixlen === "number") rule.suppressPrefixLength = raw.suppress_prefixlen;
    return rule;
  });
}

/** A destination as `ip` prints it: `default` for `0.0.0.0/0` and `::/0`, hosts without `/32` or `/128`. */
export function normalizeDst(dst: string): string {
  if (dst === "0.0.0.0/0" || dst === "::/0") return "default";
  if (dst.includes(":")) return dst.replace(/\/128$/, "");
  return dst.replace(/\/32$/, "");
}
