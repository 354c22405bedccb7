/**
 * The workloads, how warp is invoked for each, and how its `--json` report is read.
 *
 * warp v1.3.1 prints, with `--json`, its final aggregate (`aggregate.Realtime`) as one indented
 * JSON document after any progress lines. Throughput comes from the measured window
 * (`throughput.bytes`, `.objects` over `.measure_duration_millis`); latency percentiles are
 * kept per 1-second segment and merged as warp's own report merges them: the mean over segments.
 */
import { firstLine } from "./_install.ts";

export interface Workload {
  /** Name used by `--workloads`. */
  name: string;
  /** warp sub-command. */
  command: string;
  /** Object (or part) size as warp parses it, also the `size` column. */
  size: string;
  concurrency: number;
  /** Extra flags for the full run and for `--quick`. */
  args: string[];
  quickArgs: string[];
  /** The warp operation type measured; undefined for mixed. */
  op: string | undefined;
  /** False where no object data moves (stat, delete, list): no MiB/s row. */
  movesData: boolean;
  /** Measured seconds with `--quick` when the default is too short for one whole busy second. */
  quickSeconds?: number;
}

/**
 * Concurrency is fixed per workload and the same for both servers. The machine has 2 cores that
 * warp shares with the server, so it stays low enough that the client is not the bottleneck.
 */
export const WORKLOADS: readonly Workload[] = [
  {
    name: "get",
    command: "get",
    op: "GET",
    size: "64MiB",
    concurrency: 8,
    movesData: true,
    args: ["--objects", "16"],
    quickArgs: ["--objects", "8"],
  },
  {
    name: "get",
    command: "get",
    op: "GET",
    size: "1MiB",
    concurrency: 8,
    movesData: true,
    args: ["--objects", "400"],
    quickArgs: ["--objects", "100"],
  },
  {
    // 8 concurrent 64 MiB PUTs take seconds each on one shared disk: 4 s would not cover one.
    name: "put",
    command: "put",
    op: "PUT",
    size: "64MiB",
    concurrency: 8,
    movesData: true,
    args: [],
    quickArgs: [],
    quickSeconds: 12,
  },
  {
    name: "put",
    command: "put",
    op: "PUT",
    size: "1MiB",
    concurrency: 8,
    movesData: true,
    args: [],
    quickArgs: [],
  },
  {
    name: "mixed",
    command: "mixed",
    op: undefined,
    size: "4KiB",
    concurrency: 16,
    movesData: true,
    args: ["--objects", "2000"],
    quickArgs: ["--objects", "500"],
  },
  {
    name: "stat",
    command: "stat",
    op: "STAT",
    size: "1KiB",
    concurrency: 16,
    movesData: false,
    args: ["--objects", "5000"],
    quickArgs: ["--objects", "500"],
  },
  {
    name: "delete",
    command: "delete",
    op: "DELETE",
    size: "1KiB",
    concurrency: 8,
    movesData: false,
    // warp wants at least batch x concurrency x 4 objects.
    args: ["--objects", "25000", "--batch", "100"],
    quickArgs: ["--objects", "4000", "--batch", "100"],
  },
  {
    // 4 uploads at a time, each sending 4 of its parts at a time.
    name: "multipart-put",
    command: "multipart-put",
    op: "PUTPART",
    size: "5MiB",
    concurrency: 4,
    movesData: true,
    args: ["--parts", "20", "--part.concurrent", "4"],
    quickArgs: ["--parts", "8", "--part.concurrent", "4"],
    quickSeconds: 8,
  },
  {
    // Pages of 1,000 keys (the S3 default) over objects spread across `concurrency` prefixes.
    name: "list",
    command: "list",
    op: "LIST",
    size: "1KiB",
    concurrency: 8,
    movesData: false,
    args: ["--objects", "100000", "--max-keys", "1000"],
    quickArgs: ["--objects", "4000", "--max-keys", "1000"],
  },
];

export interface RunTarget {
  host: string;
  accessKey: string;
  secretKey: string;
}

export interface WarpRunOptions {
  warp: string;
  quick: boolean;
  durationSeconds: number;
  /** Where warp writes its benchdata file. */
  workDir: string;
  /** Kills warp after this long (prepare and cleanup included). */
  timeoutMs: number;
}

export function warpArgs(w: Workload, target: RunTarget, opts: WarpRunOptions): string[] {
  const sizeFlag = w.command === "multipart-put" ? "--part.size" : "--obj.size";
  const tag = `${w.name}-${w.size}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  return [
    w.command,
    "--host",
    target.host,
    "--access-key",
    target.accessKey,
    "--secret-key",
    target.secretKey,
    "--bucket",
    `warp-${tag}`,
    sizeFlag,
    w.size,
    "--concurrent",
    String(w.concurrency),
    "--duration",
    `${opts.durationSeconds}s`,
    "--benchdata",
    `${opts.workDir}/warp-${tag}`,
    "--json",
    "--no-color",
    ...(opts.quick ? w.quickArgs : w.args),
  ];
}

/** One warp run, reduced to what the table shows. */
export type RunOutcome =
  | {
    ok: true;
    mibPerSec: number;
    objectsPerSec: number;
    /** False when warp had no whole measured segment and the rates span the whole run. */
    measured: boolean;
    /** Latency by warp operation type (GET, PUT, PUTPART, LIST, ...), milliseconds. */
    latency: Record<string, { p50Ms: number; p99Ms: number }>;
    errors: number;
    firstError: string | undefined;
    peakRssBytes: number | undefined;
  }
  | { ok: false; error: string };

// The subset of warp's aggregate.Realtime that is read here (pkg/aggregate/live.go).
interface WarpSingleSized {
  dur_median_millis: number;
  dur_99_millis: number;
  merged_entries: number;
  skipped?: boolean;
}
interface WarpAggregate {
  start_time: string;
  end_time: string;
  total_bytes: number;
  total_objects: number;
  total_requests: number;
  total_errors: number;
  first_errors?: string[] | null;
  throughput: {
    measure_duration_millis: number;
    bytes: number;
    objects: number;
    errors: number;
  };
  requests_by_client?:
    | Record<
      string,
      Array<{ single_sized_requests?: WarpSingleSized | null }> | null
    >
    | null;
}
interface WarpRealtime {
  total: WarpAggregate;
  by_op_type?: Record<string, WarpAggregate> | null;
}

const MiB = 1024 * 1024;

/** Reads warp's `--json` output (progress lines may precede the document). */
export function parseWarpJson(stdout: string): WarpRealtime {
  const start = stdout.search(/^\{/m);
  const end = stdout.lastIndexOf("}");
  if (start < 0 || end < start) {
    throw new Error(`No JSON report in warp output: ${firstLine(stdout) || "(empty)"}`);
  }
  const doc = JSON.parse(stdout.slice(start, end + 1)) as Partial<WarpRealtime>;
  if (doc.total?.throughput === undefined) throw new Error("warp JSON has no total throughput");
  return doc as WarpRealtime;
}

/**
 * `op` names the one operation a single-operation workload measures (warp's list run can also
 * report a few PUTs); its aggregate is used when present. Mixed workloads pass none.
 */
export function summarise(
  report: WarpRealtime,
  op?: string,
): Omit<Extract<RunOutcome, { ok: true }>, "peakRssBytes"> {
  const only = op === undefined ? undefined : report.by_op_type?.[op];
  const total = only ?? report.total;
  const t = total.throughput;
  // warp measures only whole 1-second segments in which every worker was busy; a run too short
  // (or with operations too long) for that has none, and then the whole run's totals are used.
  const measured = t.measure_duration_millis > 0;
  const seconds = measured
    ? t.measure_duration_millis / 1000
    : (Date.parse(total.end_time) - Date.parse(total.start_time)) / 1000;
  const bytes = measured ? t.bytes : total.total_bytes;
  const objects = measured ? t.objects : total.total_objects;
  const latency: Record<string, { p50Ms: number; p99Ms: number }> = {};
  const ops = only === undefined || op === undefined
    ? Object.entries(report.by_op_type ?? {})
    : [[op, only] as const];
  for (const [name, agg] of ops) {
    let p50 = 0;
    let p99 = 0;
    let n = 0;
    for (const segs of Object.values(agg.requests_by_client ?? {})) {
      for (const seg of segs ?? []) {
        const s = seg.single_sized_requests;
        if (s === undefined || s === null || s.skipped === true) continue;
        p50 += s.dur_median_millis;
        p99 += s.dur_99_millis;
        n += s.merged_entries;
      }
    }
    if (n > 0) latency[name] = { p50Ms: p50 / n, p99Ms: p99 / n };
  }
  const errors = total.total_errors;
  return {
    ok: true,
    mibPerSec: seconds > 0 ? bytes / MiB / seconds : 0,
    objectsPerSec: seconds > 0 ? objects / seconds : 0,
    measured,
    latency,
    errors,
    firstError: total.first_errors?.[0],
  };
}

export interface WarpProcessResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export async function runWarp(
  w: Workload,
  target: RunTarget,
  opts: WarpRunOptions,
): Promise<WarpProcessResult> {
  const child = new Deno.Command(opts.warp, {
    args: warpArgs(w, target, opts),
    cwd: opts.workDir,
    env: { TERM: "dumb", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, opts.timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    ok: out.success && !timedOut,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    timedOut,
  };
}

/** Turns a finished warp process into an outcome; never throws. */
export function outcomeOf(res: WarpProcessResult, timeoutMs: number, op?: string): RunOutcome {
  if (res.timedOut) return { ok: false, error: `warp killed after ${timeoutMs / 1000} s` };
  if (!res.ok) {
    const why = warpFailure(res.stderr) ?? warpFailure(res.stdout) ?? "warp failed";
    return { ok: false, error: why };
  }
  try {
    return { ...summarise(parseWarpJson(res.stdout), op), peakRssBytes: undefined };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * With `--json` warp reports a fatal error as `warp-v1.3.1: {"error": {"message": ...,
 * "cause": {"message": ...}}}`; otherwise as text. Returns one line either way.
 */
export function warpFailure(text: string): string | undefined {
  const brace = text.indexOf("{");
  if (brace >= 0) {
    try {
      const doc = JSON.parse(text.slice(brace, text.lastIndexOf("}") + 1)) as {
        error?: { message?: string; cause?: { message?: string } };
      };
      const msg = doc.error?.message;
      const cause = doc.error?.cause?.message;
      if (msg !== undefined) return cause === undefined ? msg : `${msg}: ${cause}`;
    } catch {
      // Not JSON: fall through to the text form.
    }
  }
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.find((l) => /error|fatal|unable/i.test(l)) ?? lines[0];
}
