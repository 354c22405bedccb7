/**
 * Bucket and object usage for the metrics, computed cheaply: a background scan lists every bucket
 * at a bounded rate (USAGE_SCAN_KEYS_PER_SECOND_MAX), keeps the last complete result, and starts a
 * new cycle only after a write and at most every `intervalMs`. A scrape never walks the namespace.
 */
import {
  USAGE_SCAN_INTERVAL_MS,
  USAGE_SCAN_KEYS_PER_SECOND_MAX,
  USAGE_SCAN_PAGE_KEYS,
} from "../config/limits.ts";
import type { ObjectLayer } from "../object/mod.ts";
import { logger } from "../util/logger.ts";

export interface BucketUsage {
  objects: number;
  bytes: number;
}

export interface UsageSnapshot {
  /** When the scan that produced it finished. */
  finished: Date;
  buckets: Map<string, BucketUsage>;
}

export interface UsageScannerOptions {
  intervalMs?: number;
  keysPerSecondMax?: number;
}

export class UsageScanner {
  readonly #objects: ObjectLayer;
  readonly #intervalMs: number;
  readonly #keysPerSecond: number;
  #snapshot: UsageSnapshot | undefined;
  /** A write happened since the current or last cycle started. */
  #dirty = true;
  #running: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastStart = -Infinity;
  #closed = false;

  constructor(objects: ObjectLayer, opts: UsageScannerOptions = {}) {
    this.#objects = objects;
    this.#intervalMs = opts.intervalMs ?? USAGE_SCAN_INTERVAL_MS;
    this.#keysPerSecond = opts.keysPerSecondMax ?? USAGE_SCAN_KEYS_PER_SECOND_MAX;
  }

  /** The last complete scan, or undefined before the first one finished. */
  get snapshot(): UsageSnapshot | undefined {
    return this.#snapshot;
  }

  /** Starts the first cycle. */
  start(): void {
    this.#schedule();
  }

  /** Something was written or deleted: a new cycle is due (not before the interval is over). */
  changed(): void {
    this.#dirty = true;
    this.#schedule();
  }

  /** Waits for the running cycle (tests) . */
  async idle(): Promise<void> {
    await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(): void {
    if (this.#closed || this.#running !== undefined || this.#timer !== undefined) return;
    if (!this.#dirty) return;
    const wait = Math.max(0, this.#lastStart + this.#intervalMs - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#cycle().finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, wait);
    // A pending scan must not keep the process alive.
    Deno.unrefTimer(this.#timer);
  }

  async #cycle(): Promise<void> {
    this.#dirty = false;
    this.#lastStart = performance.now();
    const buckets = new Map<string, BucketUsage>();
    try {
      for (const b of await this.#objects.listBuckets()) {
        const usage: BucketUsage = { objects: 0, bytes: 0 };
        let after = "";
        for (;;) {
          if (this.#closed) return;
          const began = performance.now();
          const page = await this.#objects.listObjects(b.name, {
            prefix: "",
            delimiter: "",
            after,
            maxKeys: USAGE_SCAN_PAGE_KEYS,
          });
          for (const o of page.objects) {
            usage.objects++;
            usage.bytes += o.size;
          }
          if (!page.isTruncated || page.nextAfter === undefined) break;
          after = page.nextAfter;
          // Rate bound: a page of N keys takes at least N / keysPerSecond seconds.
          const floorMs = page.objects.length / this.#keysPerSecond * 1000;
          const rest = floorMs - (performance.now() - began);
          if (rest > 0) await new Promise((r) => setTimeout(r, rest));
        }
        buckets.set(b.name, usage);
      }
    } catch (e) {
      // A bucket deleted mid-scan, a drive lost: keep the last result and try again later.
      logger.warn("Usage scan failed", { error: e });
      this.#dirty = true;
      return;
    }
    this.#snapshot = { finished: new Date(), buckets };
  }
}
