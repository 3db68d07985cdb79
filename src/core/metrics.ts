/**
 * A small Prometheus registry: counters and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). Enough for dockernet's own metrics; no dependency.
 */
export type Labels = Record<string, string>;

interface Family {
  type: "counter" | "histogram" | "gauge";
  help: string;
  buckets?: number[];
  series: Map<string, { labels: Labels; value: number; counts?: number[]; sum?: number }>;
}

function labelText(labels: Labels, extra: Labels = {}): string {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([key, value]) => `${key}="${value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Default latency buckets in seconds: 5 ms to 10 s. */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly #families = new Map<string, Family>();
  readonly #gauges = new Map<string, () => number>();

  #family(name: string, type: Family["type"], help: string, buckets?: number[]): Family {
    let family = this.#families.get(name);
    if (!family) {
      family = { type, help, buckets, series: new Map() };
      this.#families.set(name, family);
    }
    return family;
  }

  #series(family: Family, labels: Labels) {
    const key = labelText(labels);
    let series = family.series.get(key);
    if (!series) {
      series = { labels, value: 0, counts: family.buckets?.map(() => 0), sum: 0 };
      family.series.set(key, series);
    }
    return series;
  }

  /** Declares a counter so it is exported (at 0) before the first increment. */
  declareCounter(name: string, help: string, labels: Labels = {}): void {
    this.#series(this.#family(name, "counter", help), labels);
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    this.#series(this.#family(name, "counter", help), labels).value += by;
  }

  observe(name: string, help: string, seconds: number, labels: Labels = {}, buckets = latencyBuckets): void {
    const series = this.#series(this.#family(name, "histogram", help, buckets), labels);
    series.value += 1;
    series.sum = (series.sum ?? 0) + seconds;
    buckets.forEach((bound, index) => {
      if (seconds <= bound && series.counts) series.counts[index] = (series.counts[index] ?? 0) + 1;
    });
  }

  /** A gauge whose value is read when /metrics is rendered (a count of listeners, of connections). */
  gauge(name: string, help: string, read: () => number, labels: Labels = {}): void {
    this.#gauges.set(`${name}${labelText(labels)}`, read);
    this.#series(this.#family(name, "gauge", help), labels);
  }

  /** The text exposition format. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const series of family.series.values()) {
        if (family.type !== "histogram") {
          const read = family.type === "gauge" ? this.#gauges.get(`${name}${labelText(series.labels)}`) : undefined;
          lines.push(`${name}${labelText(series.labels)} ${read ? read() : series.value}`);
          continue;
        }
        family.buckets?.forEach((bound, index) => lines.push(`${name}_bucket${labelText(series.labels, { le: String(bound) })} ${series.counts?.[index] ?? 0}`));
        lines.push(`${name}_bucket${labelText(series.labels, { le: "+Inf" })} ${series.value}`);
        lines.push(`${name}_sum${labelText(series.labels)} ${series.sum ?? 0}`, `${name}_count${labelText(series.labels)} ${series.value}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
}
