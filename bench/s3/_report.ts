/**
 * Reduces the rounds of each workload to one TSV row per metric: the median of each server's
 * rounds, and a ratio oriented so that above 1.0 always means Shale did better (Shale/MinIO for
 * throughput, MinIO/Shale for latency and memory).
 */
import type { ServerName } from "./_args.ts";
import type { RunOutcome, Workload } from "./_warp.ts";

export const TSV_HEADER = ["workload", "size", "concurrency", "metric", "shale", "minio", "ratio"];

export interface WorkloadResult {
  workload: Workload;
  runs: Record<ServerName, RunOutcome[]>;
}

type Ok = Extract<RunOutcome, { ok: true }>;

interface Metric {
  name: string;
  higherIsBetter: boolean;
  value: (r: Ok) => number | undefined;
  format: (v: number) => string;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const hi = s[mid] as number;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] as number) + hi) / 2;
}

/** Ratio above 1.0 means Shale did better; undefined when either side is missing or zero. */
export function ratio(
  shale: number | undefined,
  minio: number | undefined,
  higherIsBetter: boolean,
): number | undefined {
  if (shale === undefined || minio === undefined || shale <= 0 || minio <= 0) return undefined;
  return higherIsBetter ? shale / minio : minio / shale;
}

function fmtRate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function fmtMs(v: number): string {
  return v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const MiB = 1024 * 1024;

function metricsFor(result: WorkloadResult): Metric[] {
  const oks = [...result.runs.shale, ...result.runs.minio].filter((r): r is Ok => r.ok);
  const metrics: Metric[] = [];
  if (result.workload.movesData) {
    metrics.push({
      name: "MiB/s",
      higherIsBetter: true,
      value: (r) => r.mibPerSec,
      format: fmtRate,
    });
  }
  metrics.push({
    name: "objects/s",
    higherIsBetter: true,
    value: (r) => r.objectsPerSec,
    format: fmtRate,
  });
  const ops = [...new Set(oks.flatMap((r) => Object.keys(r.latency)))].sort();
  for (const op of ops) {
    const suffix = ops.length > 1 ? ` ${op}` : "";
    metrics.push({
      name: `p50 ms${suffix}`,
      higherIsBetter: false,
      value: (r) => r.latency[op]?.p50Ms,
      format: fmtMs,
    });
    metrics.push({
      name: `p99 ms${suffix}`,
      higherIsBetter: false,
      value: (r) => r.latency[op]?.p99Ms,
      format: fmtMs,
    });
  }
  metrics.push({
    name: "peak RSS MiB",
    higherIsBetter: false,
    value: (r) => r.peakRssBytes === undefined ? undefined : r.peakRssBytes / MiB,
    format: (v) => v.toFixed(0),
  });
  return metrics;
}

interface Cell {
  text: string;
  value: number | undefined;
}

function cell(runs: RunOutcome[], metric: Metric): Cell {
  if (runs.length === 0) return { text: "-", value: undefined };
  const failed = runs.find((r): r is Extract<RunOutcome, { ok: false }> => !r.ok);
  if (failed !== undefined) return { text: `error: ${oneLine(failed.error)}`, value: undefined };
  const values = runs.map((r) => metric.value(r as Ok)).filter((v): v is number => v !== undefined);
  const m = median(values);
  return m === undefined ? { text: "-", value: undefined } : { text: metric.format(m), value: m };
}

function errorsCell(runs: RunOutcome[]): string {
  if (runs.length === 0 || runs.some((r) => !r.ok)) return "-";
  const oks = runs as Ok[];
  const total = oks.reduce((n, r) => n + r.errors, 0);
  const first = oks.find((r) => r.firstError !== undefined)?.firstError;
  return first === undefined ? String(total) : `${total} (${oneLine(first)})`;
}

function oneLine(s: string): string {
  const line = s.trim().split("\n")[0] ?? "";
  return (line.length > 160 ? `${line.slice(0, 157)}...` : line).replaceAll("\t", " ");
}

/** TSV rows (without header) for one workload. */
export function rowsFor(result: WorkloadResult): string[][] {
  const { workload } = result;
  const head = [workload.name, workload.size, String(workload.concurrency)];
  const rows: string[][] = [];
  for (const metric of metricsFor(result)) {
    const s = cell(result.runs.shale, metric);
    const m = cell(result.runs.minio, metric);
    const r = ratio(s.value, m.value, metric.higherIsBetter);
    rows.push([...head, metric.name, s.text, m.text, r === undefined ? "-" : r.toFixed(2)]);
  }
  const anyErrors = [...result.runs.shale, ...result.runs.minio].some((r) => r.ok && r.errors > 0);
  if (anyErrors) {
    rows.push([
      ...head,
      "request errors",
      errorsCell(result.runs.shale),
      errorsCell(result.runs.minio),
      "-",
    ]);
  }
  return rows;
}

export function toTsv(rows: string[][]): string {
  return rows.map((r) => r.join("\t")).join("\n") + "\n";
}
