/**
 * The heal scanner: walks every bucket (the reserved IAM bucket included) and heals each object,
 * at most `objectsPerSecondMax` a second, then pauses `intervalMs` and walks again; walks are
 * shallow (records and shard file sizes) but for every SCANNER_DEEP_EVERY_CYCLES-th (every shard
 * frame read, as MinIO's deep scan). Reads and admin heals always check deeply. It finds what
 * reads never touch: parity shards, objects nobody reads, an empty replacement drive formatted
 * into its slot at start-up (refilled by the first walk, which starts `startDelayMs` after
 * start-up), and data dirs left by crashed commits (healObject removes them).
 *
 * `close()` stops it between two objects: shutdown waits for at most the object being healed.
 */
import {
  SCANNER_DEEP_EVERY_CYCLES,
  SCANNER_INTERVAL_MS,
  SCANNER_OBJECTS_PER_SECOND_MAX,
  SCANNER_START_DELAY_MS,
} from "../config/limits.ts";
import type { ShaleObjectLayer } from "../object/object_layer.ts";
import { logger } from "../util/logger.ts";
import { healBucket, type HealCounters, type HealTotals, newCounters, sleep } from "./heal.ts";

export interface ScannerOptions {
  /** Pause between the end of one walk and the start of the next. */
  intervalMs?: number;
  /** Objects checked a second, across buckets. */
  objectsPerSecondMax?: number;
  /** The first walk starts this long after `start()`. */
  startDelayMs?: number;
  /** Every object checked is also counted here (metrics). */
  totals?: HealTotals;
  /** SHALE_SCANNER_INTERVAL=off: start() does nothing (heal on read and admin heals remain). */
  off?: boolean;
}

export class HealScanner {
  readonly #layer: ShaleObjectLayer;
  readonly #intervalMs: number;
  readonly #rate: number;
  readonly #startDelayMs: number;
  readonly #totals: HealTotals | undefined;
  readonly #off: boolean;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  /** Walks finished since start, and the counters of the last one. */
  cycles = 0;
  last: HealCounters | undefined;

  constructor(layer: ShaleObjectLayer, opts: ScannerOptions = {}) {
    this.#layer = layer;
    this.#intervalMs = opts.intervalMs ?? SCANNER_INTERVAL_MS;
    this.#rate = opts.objectsPerSecondMax ?? SCANNER_OBJECTS_PER_SECOND_MAX;
    this.#startDelayMs = opts.startDelayMs ?? SCANNER_START_DELAY_MS;
    this.#totals = opts.totals;
    this.#off = opts.off ?? false;
  }

  start(): void {
    if (this.#off) return;
    this.#running ??= this.#loop();
  }

  /** Stops between two objects and resolves when the walk has returned. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    await sleep(this.#startDelayMs, signal);
    while (!signal.aborted) {
      await this.walk(signal);
      await sleep(this.#intervalMs, signal);
    }
  }

  /**
   * One walk of every bucket. Deep (every shard frame read) every SCANNER_DEEP_EVERY_CYCLES-th
   * walk; otherwise shallow (records and shard file sizes), so that a walk, the one right after
   * start-up included, costs metadata reads, not a read of every byte stored.
   */
  async walk(signal?: AbortSignal): Promise<HealCounters> {
    const deep = (this.cycles + 1) % SCANNER_DEEP_EVERY_CYCLES === 0;
    const c = newCounters();
    const started = Date.now();
    try {
      for (const b of await this.#layer.listBuckets()) {
        if (signal?.aborted) break;
        try {
          await healBucket(this.#layer, b.name, {
            objectsPerSecondMax: this.#rate,
            counters: c,
            deep,
            ...(signal !== undefined ? { signal } : {}),
            ...(this.#totals !== undefined ? { totals: this.#totals } : {}),
          });
        } catch (e) {
          // A bucket deleted mid-walk, a listing that lost its quorum: the next walk retries.
          logger.warn("Heal scanner could not walk a bucket", { bucket: b.name, error: e });
        }
      }
    } catch (e) {
      logger.warn("Heal scanner could not list buckets", { error: e });
    }
    if (!signal?.aborted) {
      this.cycles++;
      this.last = c;
      logger.info("Heal scan finished", {
        ...c,
        deep,
        ms: Date.now() - started,
        cycle: this.cycles,
      });
    }
    return c;
  }
}

/**
 * Reads SHALE_SCANNER_INTERVAL (a duration: "90s", "5m", "1h", "500ms", or seconds; "off" stops
 * the scanner) and SHALE_SCANNER_OBJECTS_PER_SECOND; throws a sentence naming the variable when
 * one is invalid.
 */
export function scannerOptionsFromEnv(
  env: (name: string) => string | undefined,
): Omit<ScannerOptions, "totals"> {
  const out: Omit<ScannerOptions, "totals"> = {};
  const interval = env("SHALE_SCANNER_INTERVAL");
  if (interval === "off") out.off = true;
  else if (interval !== undefined && interval !== "") {
    out.intervalMs = parseDurationMs(interval, "SHALE_SCANNER_INTERVAL");
    // A short interval is a test or dev set-up: start the first walk at once as well.
    out.startDelayMs = Math.min(out.intervalMs, SCANNER_START_DELAY_MS);
  }
  const rate = env("SHALE_SCANNER_OBJECTS_PER_SECOND");
  if (rate !== undefined && rate !== "") {
    const n = Number(rate);
    if (!Number.isFinite(n) || n <= 0) {
      throw new Error(`SHALE_SCANNER_OBJECTS_PER_SECOND must be a positive number, not "${rate}"`);
    }
    out.objectsPerSecondMax = n;
  }
  return out;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseDurationMs(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) {
    throw new Error(`${name} must be a duration such as "30s", "5m" or "1h", not "${text}"`);
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "s"]!);
}
