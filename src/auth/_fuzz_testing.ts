/**
 * The loop every fuzz target runs (`src/auth/fuzz_test.ts`, `src/s3/fuzz_test.ts`), so that each
 * target is held to the same three bounds:
 * - every input finishes within `inputMsMax` (an async input is abandoned by a watchdog once past
 *   it; a sync one is timed when it returns, since nothing can interrupt it: a sync input that
 *   never returns hangs the test run instead);
 * - the heap grows by at most `heapGrowthBytesMax` (plus `keptBytesPerRunMax` a run, for a target
 *   whose successes are kept) over the run, measured after a full collection where one can be
 *   forced (see `collectGarbage`);
 * - the closing line gives the seed, the number of runs, the slowest input and the heap growth.
 *
 * SHALE_FUZZ_SEED=<n> replays (every target starts from it); SHALE_FUZZ_SECONDS (default 2) or
 * SHALE_FUZZ_MS, which wins, sets the time spent on each target.
 *
 * Test-only: nothing outside `*_test.ts` imports it.
 */
import v8 from "node:v8";
import vm from "node:vm";

/** Time per target when neither SHALE_FUZZ_SECONDS nor SHALE_FUZZ_MS is set. */
export const FUZZ_BUDGET_MS_DEFAULT = 2_000;

/** SHALE_FUZZ_MS, else SHALE_FUZZ_SECONDS × 1000, else the default; throws on anything else. */
export function fuzzBudgetMs(env: (name: string) => string | undefined): number {
  for (const [name, unitMs] of [["SHALE_FUZZ_MS", 1], ["SHALE_FUZZ_SECONDS", 1000]] as const) {
    const text = env(name);
    if (text === undefined || text.trim() === "") continue;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) {
      throw new Error(`${name} must be a positive number, not "${text}"`);
    }
    return n * unitMs;
  }
  return FUZZ_BUDGET_MS_DEFAULT;
}

/** A seeded mulberry32 source; prints the seed and how to replay it. */
export function fuzzRandom(name: string): { next: () => number; seed: number } {
  const env = Deno.env.get("SHALE_FUZZ_SEED");
  const seed = env !== undefined ? Number(env) >>> 0 : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name} seed ${seed} (replay with SHALE_FUZZ_SEED=${seed})`);
  let a = seed || 1;
  return {
    seed,
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** Rejects with `<what>: no answer in <ms> ms` when `p` has not settled by then. */
export async function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

let gcFunction: (() => void) | null | undefined;

/**
 * Runs a full collection and returns true, or returns false when none can be forced. `gc` is
 * global under `--v8-flags=--expose-gc`; `deno task test` passes no V8 flags, so otherwise the
 * flag is set at run time and `gc` taken from a fresh context (a Node idiom; Deno 2.9 honours it),
 * so that CI measures what the heap retains, not garbage not yet collected.
 */
export function collectGarbage(): boolean {
  if (gcFunction === undefined) {
    const global = (globalThis as { gc?: unknown }).gc;
    if (typeof global === "function") gcFunction = global as () => void;
    else {
      try {
        v8.setFlagsFromString("--expose-gc");
        const fromContext: unknown = vm.runInNewContext("gc");
        gcFunction = typeof fromContext === "function" ? fromContext as () => void : null;
      } catch {
        gcFunction = null;
      }
    }
  }
  if (gcFunction === null) return false;
  gcFunction();
  return true;
}

export interface FuzzOptions {
  /** An input that takes longer counts as a hang. */
  inputMsMax: number;
  /** The heap may grow by at most this much from the first input to the last. */
  heapGrowthBytesMax: number;
  /**
   * What one run may keep for good on top of that (an object a PUT stored in memory drives), so
   * that a target with state stays within its bound however long it runs. Default 0.
   */
  keptBytesPerRunMax?: number;
  /** Fewer runs than this in the budget fail the target: it tested next to nothing. Default 100. */
  runsMin?: number;
  /** Time spent on the target; default `fuzzBudgetMs` of the environment. */
  budgetMs?: number;
  /** The target's own figures, added to the closing line. */
  figures?: () => string;
}

export interface FuzzReport {
  seed: number;
  runs: number;
  elapsedMs: number;
  slowestInputMs: number;
  heapGrowthBytes: number;
  /** Whether the heap was measured after a forced collection. */
  collected: boolean;
}

/**
 * Feeds `input` a seeded random source and the run number until the budget is spent. An error
 * thrown by an input fails the target with the seed and run that replay it.
 */
export async function fuzz(
  name: string,
  options: FuzzOptions,
  input: (random: () => number, run: number) => void | Promise<void>,
): Promise<FuzzReport> {
  const { next, seed } = fuzzRandom(name);
  const budgetMs = options.budgetMs ?? fuzzBudgetMs((n) => Deno.env.get(n));
  const collected = collectGarbage();
  const heapBefore = Deno.memoryUsage().heapUsed;
  const started = performance.now();
  let runs = 0;
  let slowestInputMs = 0;
  // One watchdog for the run, not a timer per input (a timer costs more than a parser's input):
  // it rejects the input in flight once that has run past its deadline.
  let inputStarted = 0;
  let rejectHung: ((e: Error) => void) | undefined;
  const watchdog = setInterval(() => {
    if (rejectHung !== undefined && performance.now() - inputStarted > options.inputMsMax) {
      rejectHung(new Error(`no answer in ${options.inputMsMax} ms`));
    }
  }, Math.max(1, Math.min(250, options.inputMsMax / 4)));
  try {
    while (performance.now() - started < budgetMs) {
      inputStarted = performance.now();
      try {
        const pending = input(next, runs);
        if (pending instanceof Promise) {
          await new Promise<void>((resolve, reject) => {
            rejectHung = reject;
            pending.then(() => resolve(), reject);
          });
        }
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        throw new Error(`${name} seed ${seed} run ${runs}: ${message}`, { cause: e });
      } finally {
        rejectHung = undefined;
      }
      const ms = performance.now() - inputStarted;
      slowestInputMs = Math.max(slowestInputMs, ms);
      if (ms > options.inputMsMax) {
        throw new Error(
          `${name} seed ${seed} run ${runs}: took ${Math.round(ms)} ms, more than ` +
            `${options.inputMsMax} ms`,
        );
      }
      runs++;
    }
  } finally {
    clearInterval(watchdog);
  }
  const elapsedMs = performance.now() - started;
  collectGarbage();
  const heapGrowthBytes = Deno.memoryUsage().heapUsed - heapBefore;
  const extra = options.figures?.() ?? "";
  console.log(
    `${name}: ${runs} runs in ${Math.round(elapsedMs)} ms, slowest input ` +
      `${slowestInputMs.toFixed(1)} ms, heap ${heapGrowthBytes >= 0 ? "+" : ""}` +
      `${Math.round(heapGrowthBytes / 1024)} KiB${collected ? " after gc" : " (no gc)"}` +
      (extra === "" ? "" : `, ${extra}`),
  );
  const runsMin = options.runsMin ?? 100;
  if (runs < runsMin) {
    throw new Error(`${name} seed ${seed}: ${runs} runs in ${budgetMs} ms, fewer than ${runsMin}`);
  }
  const heapGrowthBytesMax = options.heapGrowthBytesMax + (options.keptBytesPerRunMax ?? 0) * runs;
  if (heapGrowthBytes > heapGrowthBytesMax) {
    throw new Error(
      `${name} seed ${seed}: the heap grew by ${heapGrowthBytes} bytes over ${runs} runs, ` +
        `more than ${heapGrowthBytesMax}`,
    );
  }
  return { seed, runs, elapsedMs, slowestInputMs, heapGrowthBytes, collected };
}
