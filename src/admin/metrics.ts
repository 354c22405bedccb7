/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
import { assert } from "../util/assert.ts";

export type Labels = Record<string, string>;

/** The Content-Type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(out: string[]): void;
}

function labelKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  for (const n of names) assert(LABEL_NAME.test(n), `Bad label name "${n}"`);
  return names.map((n) => `${n}="${escapeLabelValue(labels[n] ?? "")}"`).join(",");
}

/** Label values escape backslash, double quote and line feed (exposition format 0.0.4). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function series(name: string, key: string, value: number): string {
  return `${name}${key === "" ? "" : `{${key}}`} ${formatValue(value)}`;
}

/** A value per label set that only goes up. */
export class Counter implements Family {
  readonly type = "counter" as const;
  readonly #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    assert(by >= 0, `Counter "${this.name}" cannot go down by ${by}`);
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(out: string[]): void {
    for (const [k, v] of this.#values) out.push(series(this.name, k, v));
  }
}

/** A value per label set that is set, or computed when scraped. */
export class Gauge implements Family {
  readonly type = "gauge" as const;
  #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}

  set(labels: Labels, value: number): void {
    this.#values.set(labelKey(labels), value);
  }
  add(labels: Labels, by: number): void {
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  /** Forgets every label set (before a scrape re-fills the gauge from fresh figures). */
  reset(): void {
    this.#values = new Map();
  }
  render(out: string[]): void {
    for (const [k, v] of this.#values) out.push(series(this.name, k, v));
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram implements Family {
  readonly type = "histogram" as const;
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      assert((bounds[i] ?? 0) > (bounds[i - 1] ?? 0), `Histogram "${name}" bounds must increase`);
    }
  }

  observe(labels: Labels, value: number): void {
    const k = labelKey(labels);
    let s = this.#series.get(k);
    if (s === undefined) {
      s = { counts: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(k, s);
    }
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= (this.bounds[i] ?? Infinity)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    }
    s.sum += value;
    s.count++;
  }
  render(out: string[]): void {
    for (const [k, s] of this.#series) {
      const pre = k === "" ? "" : `${k},`;
      this.bounds.forEach((b, i) => {
        out.push(`${this.name}_bucket{${pre}le="${formatValue(b)}"} ${s.counts[i] ?? 0}`);
      });
      out.push(`${this.name}_bucket{${pre}le="+Inf"} ${s.count}`);
      out.push(series(`${this.name}_sum`, k, s.sum));
      out.push(series(`${this.name}_count`, k, s.count));
    }
  }
}

/** A set of metric families rendered together. */
export class Registry {
  readonly #families = new Map<string, Family>();

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }
  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, bounds));
  }

  #add<F extends Family>(family: F): F {
    assert(NAME.test(family.name), `Bad metric name "${family.name}"`);
    assert(!this.#families.has(family.name), `Metric "${family.name}" registered twice`);
    this.#families.set(family.name, family);
    return family;
  }

  /** The text exposition of the named families (all when `names` is absent). */
  render(names?: readonly string[]): string {
    const out: string[] = [];
    for (const f of this.#families.values()) {
      if (names !== undefined && !names.includes(f.name)) continue;
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      f.render(out);
    }
    return out.join("\n") + "\n";
  }
}

/** One sample of a parsed exposition. */
export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/**
 * Parses the text exposition format (for tests and tools): samples, with the TYPE of each family.
 * Throws on a malformed line.
 */
export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (m !== null) types.set(m[1] ?? "", m[2] ?? "");
      else if (!line.startsWith("# HELP ")) throw new Error(`Bad comment line "${line}"`);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`Bad sample line "${line}"`);
    const labels: Labels = {};
    const body = m[2] ?? "";
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
    let at = 0;
    while (at < body.length) {
      re.lastIndex = at;
      const l = re.exec(body);
      if (l === null) throw new Error(`Bad labels in "${line}"`);
      labels[l[1] ?? ""] = (l[2] ?? "").replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c);
      at = re.lastIndex;
    }
    const raw = m[3] ?? "";
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== "NaN") throw new Error(`Bad value in "${line}"`);
    samples.push({ name: m[1] ?? "", labels, value });
  }
  return { samples, types };
}
