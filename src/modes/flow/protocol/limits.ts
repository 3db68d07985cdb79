/**
 * A container's resource limits: what `create_container` asks for (`limits`), what applies when it
 * asks for none (`flow.default_limits`) and the most it may ask for (`flow.max_limits`).
 */
import * as v from "valibot";
import { FlowError } from "./replies.ts";

/** Limits as Docker takes them: bytes, CPUs (fractions allowed), processes. */
export interface Limits {
  memory: number;
  cpus: number;
  pids: number;
}

const units: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `536870912`, `"512m"`, `"1g"`, `"64k"` as bytes; throws naming the value otherwise. */
export function parseMemory(value: string | number): number {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value > 0) return value;
  } else {
    const match = /^(\d+(?:\.\d+)?)\s*([bkmg]?)$/i.exec(value.trim());
    const scale = match ? units[(match[2] ?? "").toLowerCase()] : undefined;
    if (match && scale !== undefined) {
      const bytes = Math.round(Number(match[1]) * scale);
      if (bytes > 0) return bytes;
    }
  }
  throw new Error(`${JSON.stringify(value)} is not a memory size such as "512m" or "1g"`);
}

/** Bytes as the shortest exact `k`/`m`/`g` form. */
export function formatMemory(bytes: number): string {
  for (const [unit, scale] of [["g", 1024 ** 3], ["m", 1024 ** 2], ["k", 1024]] as const) if (bytes % scale === 0) return `${bytes / scale}${unit}`;
  return String(bytes);
}

const memory = v.pipe(
  v.union([v.string(), v.number()], "must be bytes or a size such as \"512m\""),
  v.rawTransform<string | number, number>(({ dataset, addIssue, NEVER }) => {
    try {
      return parseMemory(dataset.value);
    } catch (error) {
      addIssue({ message: (error as Error).message });
      return NEVER;
    }
  }),
);
const cpus = v.pipe(v.number("must be a number of CPUs"), v.minValue(0.01, "must be at least 0.01"), v.maxValue(1024, "must be at most 1024"));
const pids = v.pipe(v.number("must be a number of processes"), v.integer("must be a whole number"), v.minValue(1, "must be at least 1"), v.maxValue(4_194_304, "must be at most 4194304"));

/** `limits` of create_container: any of the three; the others come from the defaults. */
export const requestedLimitsSchema = v.strictObject({ memory: v.optional(memory), cpus: v.optional(cpus), pids: v.optional(pids) });
export type RequestedLimits = v.InferOutput<typeof requestedLimitsSchema>;

/** All three, as the config holds them. */
export const limitsSchema = v.strictObject({ memory, cpus, pids }, (issue) =>
  issue.expected?.startsWith('"') && issue.input === undefined ? `needs ${issue.expected.replace(/"/g, "")} (memory, cpus and pids all three)` : "must be { memory, cpus, pids }",
);

/** `memory=1g,cpus=1,pids=1024` (how env and flags write limits) as an object. */
export function parseLimitsText(text: string): Record<string, string | number> {
  const entries = text.split(",").map((part) => part.trim()).filter((part) => part !== "").map((part) => {
    const [key = "", value = ""] = part.split("=").map((side) => side.trim());
    if (key === "" || value === "") throw new Error(`${JSON.stringify(part)} is not KEY=VALUE (memory=1g,cpus=1,pids=1024)`);
    return [key, key === "memory" ? value : Number(value)] as const;
  });
  return Object.fromEntries(entries);
}

/** Limits as env and `config validate` write them. */
export function formatLimits(limits: Limits): string {
  return `memory=${formatMemory(limits.memory)},cpus=${limits.cpus},pids=${limits.pids}`;
}

/**
 * What a container gets: each limit asked for, else the default; one above its maximum is
 * `forbidden`, naming the field, the value and the maximum.
 */
export function effectiveLimits(requested: RequestedLimits | undefined, defaults: Limits, max: Limits): Limits {
  const limits: Limits = { memory: requested?.memory ?? defaults.memory, cpus: requested?.cpus ?? defaults.cpus, pids: requested?.pids ?? defaults.pids };
  for (const key of ["memory", "cpus", "pids"] as const) {
    if (limits[key] <= max[key]) continue;
    const shown = (value: number) => (key === "memory" ? formatMemory(value) : String(value));
    const asked = requested?.[key] !== undefined;
    throw new FlowError("forbidden", `limits.${key}: ${shown(limits[key])} is over the server's maximum of ${shown(max[key])}${asked ? "" : " (the default is: see flow.default_limits)"}`, {
      field: `limits.${key}`,
      value: limits[key],
      max: max[key],
    });
  }
  return limits;
}
