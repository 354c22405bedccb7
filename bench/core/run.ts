/**
 * `deno task bench:core`: Shale's WebAssembly core against klauspost/reedsolomon and
 * minio/highwayhash on this machine, in the same run. Builds the Go program beside this file into
 * bench/.cache/ (Go modules come from the module proxy on the first build), then for every case
 * runs the Go side and the WASM side run by run, single-threaded, random data, the median of
 * RUNS runs each. Rates are bytes per second of process CPU time (set SHALE_BENCH_CLOCK=wall for
 * wall time): the machine is shared, and CPU time does not count the time another process held
 * the core. The Go program runs in -serve mode and its runs alternate with the WASM runs, so both
 * sides see the same load. Prints the TSV `op config block shale_GBps native_GBps ratio`; Reed-Solomon rows
 * appear twice, against klauspost's AVX2 path ("vs avx2") and its fastest default ("vs fastest").
 * The rates are the medians of each side's runs; the ratio is the median of the rounds' ratios
 * (each WASM run over the native run just before it). This virtual machine's core speed changes
 * in phases of a second or so (by up to 2x, whoever else runs on the host), so neighbouring runs
 * compare like with like where two separate medians may not.
 *
 * Flags: --runs N (default 9), --ms N (minimum ms per run, default 150), --variant NAME.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { wasmCore, type WasmVariant } from "../../src/wasm/mod.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "9" },
    ms: { type: "string", default: "150" },
    variant: { type: "string" },
  },
});
const RUNS = Math.max(5, Number(flags.runs));
/** Calls before measuring: V8 moves a hot WebAssembly function to TurboFan after 0.1-0.3 s. */
const WARMUP_MS = 500;
const RUN_MS = Number(flags.ms);
const CLOCK = Deno.env.get("SHALE_BENCH_CLOCK") === "wall" ? "wall" : "cpu";
const core = wasmCore(flags.variant as WasmVariant | undefined);

const here = new URL("./", import.meta.url).pathname;
const cacheDir = new URL("../.cache/", import.meta.url).pathname;
const bin = `${cacheDir}core_bench`;

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

/** The Go program in -serve mode: one timed run per request line, answered with GB/s. */
class Native {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;

  constructor() {
    this.#child = new Deno.Command(bin, {
      args: ["-serve", "-ms", String(RUN_MS), "-clock", CLOCK],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TextLineStream(),
    )[Symbol.asyncIterator]();
  }

  async run(op: string, k: number, m: number, block: number, native: string): Promise<number> {
    await this.#writer.write(new TextEncoder().encode(`${op} ${k} ${m} ${block} ${native}\n`));
    const r = await this.#lines.next();
    const v = Number(r.value);
    if (r.done === true || !Number.isFinite(v)) throw new Error(`core_bench answered ${r.value}`);
    return v;
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
  }
}

/** Splits a byte stream of text into lines. */
class TextLineStream extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const p of parts) controller.enqueue(p);
      },
      flush(controller) {
        if (rest !== "") controller.enqueue(rest);
      },
    });
  }
}

function clockSeconds(): number {
  if (CLOCK === "wall") return performance.now() / 1000;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** One run of fn for at least RUN_MS of wall time: bytes per second of CLOCK, in GB/s. */
function oneRun(bytes: number, fn: () => void): number {
  let n = 0;
  const wall = performance.now();
  const start = clockSeconds();
  do {
    fn();
    n++;
  } while (performance.now() - wall < RUN_MS);
  return (bytes * n) / (clockSeconds() - start) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * RUNS runs of the WASM case interleaved with RUNS runs of each native path, so both sides see
 * the same load; returns the medians and, per native path, the median of the rounds' ratios.
 */
async function compare(
  bytes: number,
  fn: () => void,
  native: { op: string; k: number; m: number; paths: string[] } | undefined,
): Promise<{ shale: number; native: Map<string, { rate: number; ratio: number }> }> {
  const warm = performance.now();
  while (performance.now() - warm < WARMUP_MS) fn();
  const shale: number[] = [];
  const nat = new Map<string, number[]>();
  for (let r = 0; r < RUNS; r++) {
    if (native !== undefined && goNative !== undefined) {
      for (const p of native.paths) {
        const v = await goNative.run(native.op, native.k, native.m, bytes, p);
        nat.set(p, [...(nat.get(p) ?? []), v]);
      }
    }
    shale.push(oneRun(bytes, fn));
  }
  return {
    shale: median(shale),
    native: new Map(
      [...nat].map(([p, v]) => [p, {
        rate: median(v),
        ratio: median(v.map((n, r) => shale[r]! / n)),
      }]),
    ),
  };
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
function row(
  op: string,
  config: string,
  block: number,
  shale: number,
  native?: { rate: number; ratio: number },
): void {
  const r = [
    op,
    config,
    mib(block),
    shale.toFixed(2),
    native === undefined ? "n/a" : native.rate.toFixed(2),
    native === undefined ? "n/a" : native.ratio.toFixed(2),
  ];
  rows.push(r);
  console.error(r.join("\t"));
}

const haveGo = await buildGo();
if (!haveGo) console.error("bench:core: Go build failed or Go is missing; native columns are n/a");
const goNative = haveGo ? new Native() : undefined;
console.error(`bench:core: WebAssembly variant ${core.variant}, clock ${CLOCK}, ${RUNS} runs`);

const BLOCKS = [1 << 20, 10 << 20];
for (const op of ["encode", "reconstruct"] as const) {
  const geoms: Array<[number, number]> = op === "encode" ? [[4, 2], [8, 4], [12, 4]] : [[8, 4], [
    12,
    4,
  ]];
  for (const [k, m] of geoms) {
    for (const block of BLOCKS) {
      const rs = core.createReedSolomon(k, m);
      const set = rs.allocShards(rs.shardSize(block));
      const shards = set.shards;
      for (let i = 0; i < k; i++) fillRandom(shards[i]!);
      rs.encode(shards);
      const present = shards.map((_, i) => i >= 2);
      const fn = op === "encode"
        ? () => rs.encode(shards)
        : () => rs.reconstruct(shards, present, { dataOnly: true });
      const res = await compare(block, fn, { op, k, m, paths: ["avx2", "fastest"] });
      set.release();
      const label = op === "encode" ? `${k}+${m}` : `${k}+${m} -2 data`;
      for (const path of ["avx2", "fastest"]) {
        row(op, `${label} vs ${path}`, block, res.shale, res.native.get(path));
      }
    }
  }
}

{
  const key = new Uint8Array(32);
  const block = 1 << 20;
  const set = core.createReedSolomon(1, 0).allocShards(block);
  const inWasm = set.shards[0]!;
  fillRandom(inWasm);
  const inJs = inWasm.slice();
  const oneShot = { op: "hh-oneshot", k: 0, m: 0, paths: ["fastest"] };
  const streamed = { op: "hh-stream", k: 0, m: 0, paths: ["fastest"] };
  const stream = (data: Uint8Array) => () => {
    const h = core.newHighwayHash(key, 256);
    for (let off = 0; off < data.length; off += 64 << 10) {
      h.update(data.subarray(off, off + (64 << 10)));
    }
    h.digest();
  };
  const cases: Array<[string, () => void, typeof oneShot]> = [
    ["one-shot, data in WASM memory", () => core.highwayHash256(key, inWasm), oneShot],
    ["one-shot, data in a JS buffer", () => core.highwayHash256(key, inJs), oneShot],
    ["stream 64KiB, data in WASM memory", stream(inWasm), streamed],
    ["stream 64KiB, data in a JS buffer", stream(inJs), streamed],
  ];
  for (const [config, fn, native] of cases) {
    const res = await compare(block, fn, native);
    row("highwayhash256", config, block, res.shale, res.native.get("fastest"));
  }
  set.release();
}
await goNative?.close();

console.log(["op", "config", "block", "shale_GBps", "native_GBps", "ratio"].join("\t"));
for (const r of rows) console.log(r.join("\t"));
