/**
 * `deno task bench:core`: Shale's WebAssembly core against klauspost/reedsolomon and
 * minio/highwayhash on this machine, in the same run. Builds the Go program beside this file into
 * bench/.cache/ (Go modules come from the module proxy on the first build), then for every case
 * runs the Go side and the WASM side back to back, single-threaded, random data, the median of
 * RUNS runs each. Rates are bytes per second of process CPU time (set SHALE_BENCH_CLOCK=wall for
 * wall time): the machine is shared, and CPU time does not count the time another process held
 * the core. Prints the TSV `op config block shale_GBps native_GBps ratio`; Reed-Solomon rows
 * appear twice, against klauspost's AVX2 path ("vs avx2") and its fastest default ("vs fastest").
 *
 * Flags: --runs N (default 5), --ms N (minimum ms per run, default 200), --variant NAME.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { wasmCore, type WasmVariant } from "../../src/wasm/mod.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    ms: { type: "string", default: "200" },
    variant: { type: "string" },
  },
});
const RUNS = Math.max(5, Number(flags.runs));
const RUN_MS = Number(flags.ms);
const CLOCK = Deno.env.get("SHALE_BENCH_CLOCK") === "wall" ? "wall" : "cpu";
const core = wasmCore(flags.variant as WasmVariant | undefined);

const here = new URL("./", import.meta.url).pathname;
const cacheDir = new URL("../.cache/", import.meta.url).pathname;
const bin = `${cacheDir}core_bench`;

interface NativeResult {
  op: string;
  config: string;
  block: number;
  native: string;
  GBps: number;
}

async function buildGo(): Promise<boolean> {
  await Deno.mkdir(cacheDir, { recursive: true });
  try {
    const out = await new Deno.Command("go", {
      args: ["build", "-o", bin, "."],
      cwd: here,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function runGo(args: string[]): Promise<NativeResult[]> {
  const out = await new Deno.Command(bin, {
    args: ["-runs", String(RUNS), "-ms", String(RUN_MS), "-clock", CLOCK, ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error(`core_bench failed with ${args.join(" ")}`);
  return new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l !== "").map((l) =>
    JSON.parse(l) as NativeResult
  );
}

function clockSeconds(): number {
  if (CLOCK === "wall") return performance.now() / 1000;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Median over RUNS runs of bytes per second, each run at least RUN_MS of wall time. */
function measure(bytes: number, fn: () => void): number {
  for (let i = 0; i < 20; i++) fn(); // let V8 tier the kernels up to TurboFan
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const wall = performance.now();
    const start = clockSeconds();
    do {
      fn();
      n++;
    } while (performance.now() - wall < RUN_MS);
    rates.push((bytes * n) / (clockSeconds() - start) / 1e9);
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1]!;
}

function fillRandom(u: Uint8Array): void {
  for (let off = 0; off < u.length; off += 65536) {
    crypto.getRandomValues(u.subarray(off, Math.min(u.length, off + 65536)));
  }
}

function mib(b: number): string {
  return `${b / (1 << 20)}MiB`;
}

const rows: string[][] = [];
function row(op: string, config: string, block: number, shale: number, native?: number): void {
  const r = [
    op,
    config,
    mib(block),
    shale.toFixed(2),
    native === undefined ? "n/a" : native.toFixed(2),
    native === undefined ? "n/a" : (shale / native).toFixed(2),
  ];
  rows.push(r);
  console.error(r.join("\t"));
}

const haveGo = await buildGo();
if (!haveGo) console.error("bench:core: Go build failed or Go is missing; native columns are n/a");
console.error(`bench:core: WebAssembly variant ${core.variant}, clock ${CLOCK}, ${RUNS} runs`);

const BLOCKS = [1 << 20, 10 << 20];
for (const op of ["encode", "reconstruct"] as const) {
  const geoms: Array<[number, number]> = op === "encode" ? [[4, 2], [8, 4], [12, 4]] : [[8, 4], [
    12,
    4,
  ]];
  for (const [k, m] of geoms) {
    for (const block of BLOCKS) {
      const native = haveGo
        ? await runGo(["-op", op, "-k", String(k), "-m", String(m), "-block", String(block)])
        : [];
      const rs = core.createReedSolomon(k, m);
      const set = rs.allocShards(rs.shardSize(block));
      const shards = set.shards;
      for (let i = 0; i < k; i++) fillRandom(shards[i]!);
      rs.encode(shards);
      let shale: number;
      if (op === "encode") {
        shale = measure(block, () => rs.encode(shards));
      } else {
        const present = shards.map((_, i) => i >= 2);
        shale = measure(block, () => rs.reconstruct(shards, present, { dataOnly: true }));
      }
      set.release();
      const label = op === "encode" ? `${k}+${m}` : `${k}+${m} -2 data`;
      for (const path of ["avx2", "fastest"]) {
        row(op, `${label} vs ${path}`, block, shale, native.find((n) => n.native === path)?.GBps);
      }
    }
  }
}

{
  const native = haveGo ? await runGo(["-op", "highwayhash256"]) : [];
  const key = new Uint8Array(32);
  const block = 1 << 20;
  const set = core.createReedSolomon(1, 0).allocShards(block);
  const inWasm = set.shards[0]!;
  fillRandom(inWasm);
  const inJs = inWasm.slice();
  const oneShot = native.find((n) => n.config === "one-shot")?.GBps;
  const streamed = native.find((n) => n.config === "stream 64KiB")?.GBps;
  row(
    "highwayhash256",
    "one-shot, data in WASM memory",
    block,
    measure(block, () => core.highwayHash256(key, inWasm)),
    oneShot,
  );
  row(
    "highwayhash256",
    "one-shot, data in a JS buffer",
    block,
    measure(block, () => core.highwayHash256(key, inJs)),
    oneShot,
  );
  const stream = (data: Uint8Array) => () => {
    const h = core.newHighwayHash(key, 256);
    for (let off = 0; off < data.length; off += 64 << 10) {
      h.update(data.subarray(off, off + (64 << 10)));
    }
    h.digest();
  };
  row(
    "highwayhash256",
    "stream 64KiB, data in WASM memory",
    block,
    measure(block, stream(inWasm)),
    streamed,
  );
  row(
    "highwayhash256",
    "stream 64KiB, data in a JS buffer",
    block,
    measure(block, stream(inJs)),
    streamed,
  );
  set.release();
}

console.log(["op", "config", "block", "shale_GBps", "native_GBps", "ratio"].join("\t"));
for (const r of rows) console.log(r.join("\t"));
