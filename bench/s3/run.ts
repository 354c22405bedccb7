/**
 * `deno task bench:s3`: Shale and MinIO side by side under warp (issue 9). See README.md.
 *
 * How this works: both servers start once, each on its own 4 drive folders (EC:2) under
 * bench/.cache/run, and stay up for the whole run. Every workload runs in rounds; in each round
 * both servers get one warp run, and which goes first alternates, so slow drift of the machine
 * (page cache, thermal, other tenants) lands on both. Before each run the server's peak-RSS mark
 * is reset, so the RSS column is the peak during that workload. A server that dies is restarted
 * on the same drives before its next run; a failed run becomes `error: ...` in its cell.
 */
import { type BenchArgs, parseBenchArgs, type ServerName, USAGE } from "./_args.ts";
import { measureDiskWrite, measureLoopback } from "./_context.ts";
import { ensureTools, MINIO_VERSION, WARP_VERSION } from "./_install.ts";
import { rowsFor, toTsv, TSV_HEADER, type WorkloadResult } from "./_report.ts";
import {
  DRIVE_COUNT,
  ROOT_PASSWORD,
  ROOT_USER,
  type RunningServer,
  shaleCommand,
  startServer,
  STORAGE_CLASS,
} from "./_servers.ts";
import { outcomeOf, type RunOutcome, runWarp, type Workload, WORKLOADS } from "./_warp.ts";

const DURATION_SECONDS_FULL = 30;
const DURATION_SECONDS_QUICK = 4;
const IPERF_SECONDS_FULL = 5;
const IPERF_SECONDS_QUICK = 2;
/** Prepare (uploading objects first) and cleanup come on top of the measured duration. */
const WARP_OVERHEAD_MS_FULL = 30 * 60_000;
const WARP_OVERHEAD_MS_QUICK = 5 * 60_000;

/** `--minio-vs-minio`: MinIO fills the Shale column too (A/A check of the harness). */
let minioTwice = false;
/** `--cpu-prof`: Shale writes a V8 CPU profile to bench/.cache/profiles when stopped. */
let cpuProf = false;

const repoRoot = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const cacheDir = `${repoRoot}/bench/.cache`;
const runDir = `${cacheDir}/run`;

function log(line: string): void {
  console.error(`[bench:s3 ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function out(line: string): void {
  console.log(line);
}

interface ServerSlot {
  name: ServerName;
  server: RunningServer | undefined;
  /** Why the server is not running, when it is not. */
  down: string | undefined;
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(Deno.args);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  minioTwice = args.minioVsMinio;
  cpuProf = args.cpuProf;
  const workloads = selectWorkloads(args.workloads);
  const duration = args.durationSeconds ??
    (args.quick ? DURATION_SECONDS_QUICK : DURATION_SECONDS_FULL);
  const tools = await ensureTools(args.servers.includes("minio") || minioTwice, { cacheDir, log });

  for (const name of args.servers) {
    await Deno.remove(`${runDir}/${name}`, { recursive: true }).catch(() => {});
  }
  await Deno.mkdir(runDir, { recursive: true });

  const longer = args.quick && args.durationSeconds === undefined
    ? workloads.filter((w) => w.quickSeconds !== undefined)
      .map((w) => `, ${w.name} ${w.size} ${w.quickSeconds} s`).join("")
    : "";
  out(
    `# shale vs minio, warp ${WARP_VERSION}, minio ${MINIO_VERSION}, ${new Date().toISOString()}`,
  );
  out(
    `# ${navigator.hardwareConcurrency} CPUs shared by warp and the server; 127.0.0.1; ` +
      `${DRIVE_COUNT} drive folders on one file system, ${STORAGE_CLASS}; ` +
      `${args.rounds} interleaved rounds of ${duration} s${longer}; cells are medians over rounds`,
  );
  out(`# ratio > 1 means Shale did better (Shale/MinIO for rates, MinIO/Shale for ms and RSS)`);
  out(
    "# durability: MinIO with its defaults fdatasyncs every shard and xl.meta write but does " +
      "not fsync directories after rename (MINIO_FS_OSYNC=off); Shale writes temp file, " +
      "fdatasync, rename, fsync of the directory (src/storage/fs_drive.ts). Neither skips fsync",
  );
  if (minioTwice) {
    out("# A/A check: the shale column is a second MinIO on its own drives (--minio-vs-minio)");
  } else if (args.servers.includes("shale")) {
    out(`# shale: ${(await shaleCommand(repoRoot)).slice(1).join(" ")} server <4 drives>`);
  }
  out(`# load average at start (1/5/15 min): ${await loadAverage()}`);
  if (!args.noContext) await printContext(args.quick, tools.iperf3);

  const slots: ServerSlot[] = args.servers.map((name) => ({ name, server: undefined, down: "" }));
  const stopAll = async () => {
    for (const s of slots) await s.server?.stop();
  };
  const onSignal = () => {
    log("interrupted: stopping servers");
    stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  try {
    for (const slot of slots) await ensureUp(slot, tools.minio);
    out(TSV_HEADER.join("\t"));
    const results: WorkloadResult[] = [];
    for (const w of workloads) {
      const result: WorkloadResult = { workload: w, runs: { shale: [], minio: [] } };
      for (let round = 0; round < args.rounds; round++) {
        const order = round % 2 === 0 ? slots : [...slots].reverse();
        for (const slot of order) {
          const outcome = await runOne(slot, w, {
            warp: tools.warp,
            minio: tools.minio,
            quick: args.quick,
            duration: args.quick && args.durationSeconds === undefined
              ? Math.max(duration, w.quickSeconds ?? 0)
              : duration,
          });
          result.runs[slot.name].push(outcome);
          log(`${w.name} ${w.size} round ${round + 1} ${slot.name}: ${describe(outcome)}`);
        }
      }
      results.push(result);
      out(toTsv(rowsFor(result)).trimEnd());
      for (const name of args.servers) {
        const whole = result.runs[name].filter((r) => r.ok && !r.measured).length;
        if (whole > 0) {
          out(
            `# ${w.name} ${w.size}: ${whole} ${name} run(s) had no whole 1 s measuring window; ` +
              "their rates span the whole run including ramp-up",
          );
        }
      }
    }
    out(`# load average at end (1/5/15 min): ${await loadAverage()}`);
    await saveResults(results, args);
    for (const s of slots) {
      if (s.server !== undefined && s.server.restarts > 0) {
        out(`# ${s.name} was restarted ${s.server.restarts} time(s) after exiting; see its log`);
      }
    }
  } finally {
    await stopAll();
    if (cpuProf) log(`CPU profiles (open in Chrome DevTools) in ${cacheDir}/profiles`);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    if (!args.keep) {
      for (const name of args.servers) {
        await Deno.remove(`${runDir}/${name}`, { recursive: true }).catch(() => {});
      }
    } else {
      log(`kept drive folders and logs in ${runDir}`);
    }
  }
  return 0;
}

function selectWorkloads(names: string[]): Workload[] {
  if (names.length === 0) return [...WORKLOADS];
  const known = new Set(WORKLOADS.map((w) => w.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new Error(`Unknown workload "${unknown[0]}"; known: ${[...known].join(", ")}`);
  }
  return WORKLOADS.filter((w) => names.includes(w.name));
}

async function printContext(quick: boolean, iperf3: string | undefined): Promise<void> {
  const gbps = (bytesPerSec: number) => `${(bytesPerSec / 1e9).toFixed(2)} GB/s`;
  try {
    const disk = await measureDiskWrite(runDir);
    out(`# disk: 64 MiB in 1 MiB writes + fsync from Deno: ${gbps(disk)} (${runDir})`);
  } catch (e) {
    out(`# disk: not measured: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (iperf3 === undefined) {
    out("# loopback: not measured (no iperf3)");
    return;
  }
  try {
    const secs = quick ? IPERF_SECONDS_QUICK : IPERF_SECONDS_FULL;
    const lo = await measureLoopback(iperf3, secs);
    out(`# loopback: iperf3, 1 TCP stream on 127.0.0.1 for ${secs} s: ${gbps(lo)}`);
  } catch (e) {
    out(`# loopback: not measured: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Starts (or restarts after a crash) the slot's server; records why when it cannot. */
async function ensureUp(slot: ServerSlot, minioBinary: string): Promise<void> {
  if (slot.server?.alive) return;
  const previous = slot.server;
  if (previous !== undefined) {
    log(`${slot.name} exited; restarting: ${await previous.failureLine()}`);
  }
  try {
    slot.server = await startServer({
      name: slot.name,
      kind: minioTwice ? "minio" : slot.name,
      dir: `${runDir}/${slot.name}`,
      minioBinary,
      repoRoot,
      ...(cpuProf ? { cpuProfDir: `${cacheDir}/profiles` } : {}),
    });
    if (previous !== undefined) slot.server.restarts = previous.restarts + 1;
    slot.down = undefined;
    log(`${slot.name} ready on ${slot.server.host} (pid ${slot.server.pid})`);
  } catch (e) {
    slot.server = undefined;
    slot.down = `server did not start: ${e instanceof Error ? e.message : String(e)}`;
    log(`${slot.name}: ${slot.down}`);
  }
}

async function runOne(
  slot: ServerSlot,
  w: Workload,
  o: { warp: string; minio: string; quick: boolean; duration: number },
): Promise<RunOutcome> {
  await ensureUp(slot, o.minio);
  const server = slot.server;
  if (server === undefined) return { ok: false, error: slot.down ?? "server not running" };
  await server.resetPeakRss();
  const timeoutMs = o.duration * 1000 + (o.quick ? WARP_OVERHEAD_MS_QUICK : WARP_OVERHEAD_MS_FULL);
  const workDir = `${runDir}/${slot.name}`;
  const res = await runWarp(w, {
    host: server.host,
    accessKey: ROOT_USER,
    secretKey: ROOT_PASSWORD,
  }, {
    warp: o.warp,
    quick: o.quick,
    durationSeconds: o.duration,
    workDir,
    timeoutMs,
  });
  const outcome = outcomeOf(res, timeoutMs, w.op);
  const peak = await server.peakRssBytes();
  if (!server.alive) {
    return { ok: false, error: `server exited during the run: ${await server.failureLine()}` };
  }
  return outcome.ok ? { ...outcome, peakRssBytes: peak } : outcome;
}

/** Other work on the machine skews every row; a load well above the CPU count says so. */
async function loadAverage(): Promise<string> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "");
  return text.split(" ").slice(0, 3).join(" ") || "unknown";
}

function describe(o: RunOutcome): string {
  if (!o.ok) return `error: ${o.error.split("\n")[0]}`;
  const lat = Object.entries(o.latency).map(([op, l]) => `${op} p50 ${l.p50Ms.toFixed(2)} ms`);
  const errs = o.errors > 0 ? `, ${o.errors} errors` : "";
  return `${o.mibPerSec.toFixed(1)} MiB/s, ${o.objectsPerSec.toFixed(1)} obj/s, ${
    lat.join(", ")
  }${errs}`;
}

async function saveResults(results: WorkloadResult[], args: BenchArgs): Promise<void> {
  const dir = `${cacheDir}/results`;
  await Deno.mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = `${dir}/s3-${args.quick ? "quick-" : ""}${stamp}.tsv`;
  const rows = [TSV_HEADER, ...results.flatMap(rowsFor)];
  await Deno.writeTextFile(file, toTsv(rows));
  log(`table saved to ${file}`);
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`bench:s3: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
