/** One sample of `docker stats`, read as `docker stats` shows it. */
import type { ContainerUsage } from "./types.ts";

/** The parts of a stats sample dockernet reads. */
export interface RawStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: { inactive_file?: number; cache?: number } };
}

/** CPU % over the sample's two readings, and memory used without the page cache that can be dropped. */
export function toUsage(raw: RawStats): ContainerUsage {
  const cpu = (raw.cpu_stats?.cpu_usage?.total_usage ?? 0) - (raw.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const system = (raw.cpu_stats?.system_cpu_usage ?? 0) - (raw.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = raw.cpu_stats?.online_cpus ?? 1;
  const cache = raw.memory_stats?.stats?.inactive_file ?? raw.memory_stats?.stats?.cache ?? 0;
  return {
    cpu_percent: system > 0 && cpu > 0 ? Math.round((cpu / system) * cpus * 10_000) / 100 : 0,
    memory: { used: Math.max(0, (raw.memory_stats?.usage ?? 0) - cache), limit: raw.memory_stats?.limit ?? 0 },
  };
}
