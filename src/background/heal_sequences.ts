/**
 * Heal sequences: heals started on demand (`shale admin heal`, the admin API), each over every
 * bucket, one bucket, or the keys under a prefix of one bucket, with progress that can be asked
 * for by id while it runs and after it finished. A start for a target that is already being
 * healed returns the running sequence instead of starting a second walk (MinIO answers such a
 * start with the running sequence's token too, unless forced).
 *
 * At most HEAL_SEQUENCES_MAX sequences are remembered; the oldest finished ones are forgotten
 * first. Every sequence logs one JSON line when it starts and one when it ends.
 */
import { HEAL_SEQUENCE_OBJECTS_PER_SECOND_MAX, HEAL_SEQUENCES_MAX } from "../config/limits.ts";
import { BucketNotFound } from "../object/errors.ts";
import type { ShaleObjectLayer } from "../object/object_layer.ts";
import { logger } from "../util/logger.ts";
import { healBucket, type HealCounters, type HealTotals, newCounters } from "./heal.ts";

export interface HealProgress extends HealCounters {
  /** The sequence id (MinIO's clientToken). */
  id: string;
  /** The bucket healed, or undefined for every bucket. */
  bucket: string | undefined;
  prefix: string;
  state: "running" | "finished" | "stopped" | "failed";
  started: string;
  finished: string | undefined;
  /** Why the sequence stopped early ("failed"). */
  error: string | undefined;
}

/** Every remembered sequence is still running: wait for one to end. */
export class TooManyHealSequences extends Error {}

interface Sequence {
  progress: HealProgress;
  stop: AbortController;
  done: Promise<void>;
}

export class HealSequences {
  readonly #layer: ShaleObjectLayer;
  readonly #rate: number;
  readonly #totals: HealTotals | undefined;
  readonly #all = new Map<string, Sequence>();

  constructor(
    layer: ShaleObjectLayer,
    opts: { objectsPerSecondMax?: number; totals?: HealTotals } = {},
  ) {
    this.#layer = layer;
    this.#rate = opts.objectsPerSecondMax ?? HEAL_SEQUENCE_OBJECTS_PER_SECOND_MAX;
    this.#totals = opts.totals;
  }

  /**
   * Starts healing `bucket` (every bucket when undefined) or the keys under `prefix` in it;
   * throws BucketNotFound for a bucket that does not exist.
   */
  async start(bucket?: string, prefix = ""): Promise<HealProgress> {
    if (bucket !== undefined) await this.#layer.getBucketInfo(bucket);
    for (const s of this.#all.values()) {
      const p = s.progress;
      if (p.state === "running" && p.bucket === bucket && p.prefix === prefix) return { ...p };
    }
    this.#forgetOld();
    if (this.#all.size >= HEAL_SEQUENCES_MAX) {
      throw new TooManyHealSequences(`${HEAL_SEQUENCES_MAX} heal sequences are running already`);
    }
    const progress: HealProgress = {
      id: crypto.randomUUID(),
      bucket,
      prefix,
      state: "running",
      started: new Date().toISOString(),
      finished: undefined,
      error: undefined,
      ...newCounters(),
    };
    const stop = new AbortController();
    logger.info("Heal sequence started", { id: progress.id, bucket: bucket ?? "*", prefix });
    const done = this.#run(progress, stop.signal);
    this.#all.set(progress.id, { progress, stop, done });
    return { ...progress };
  }

  /** Every heal of the process, when given (the background heal status counts them). */
  get totals(): HealTotals | undefined {
    return this.#totals;
  }

  /** A copy of a sequence's progress, or undefined for an unknown (or forgotten) id. */
  get(id: string): HealProgress | undefined {
    const s = this.#all.get(id);
    return s === undefined ? undefined : { ...s.progress };
  }

  /** Asks a running sequence to stop after its current object; resolves once it did. */
  async stop(id: string): Promise<HealProgress | undefined> {
    const s = this.#all.get(id);
    if (s === undefined) return undefined;
    s.stop.abort();
    await s.done;
    return { ...s.progress };
  }

  /** Resolves when the sequence ended (tests). */
  async wait(id: string): Promise<HealProgress | undefined> {
    await this.#all.get(id)?.done;
    return this.get(id);
  }

  /** Stops every running sequence (shutdown). */
  async close(): Promise<void> {
    for (const s of this.#all.values()) s.stop.abort();
    await Promise.all([...this.#all.values()].map((s) => s.done));
  }

  async #run(p: HealProgress, signal: AbortSignal): Promise<void> {
    // Let start() answer before the walk holds the event loop with its first object.
    await Promise.resolve();
    try {
      const buckets = p.bucket !== undefined
        ? [p.bucket]
        : (await this.#layer.listBuckets()).map((b) => b.name);
      for (const bucket of buckets) {
        if (signal.aborted) break;
        try {
          await healBucket(this.#layer, bucket, {
            objectsPerSecondMax: this.#rate,
            signal,
            prefix: p.prefix,
            counters: p,
            ...(this.#totals !== undefined ? { totals: this.#totals } : {}),
          });
        } catch (e) {
          // A bucket deleted since the walk listed it has nothing left to heal.
          if (!(e instanceof BucketNotFound) || p.bucket !== undefined) throw e;
        }
      }
      p.state = signal.aborted ? "stopped" : "finished";
    } catch (e) {
      p.state = "failed";
      p.error = e instanceof Error ? e.message : String(e);
    }
    p.finished = new Date().toISOString();
    const { id, state, scanned, healed, failed, bytes, error } = p;
    logger.info("Heal sequence finished", {
      id,
      bucket: p.bucket ?? "*",
      prefix: p.prefix,
      state,
      scanned,
      healed,
      failed,
      bytes,
      ms: Date.parse(p.finished) - Date.parse(p.started),
      ...(error !== undefined ? { error } : {}),
    });
  }

  #forgetOld(): void {
    for (const [id, s] of this.#all) {
      if (this.#all.size < HEAL_SEQUENCES_MAX) return;
      if (s.progress.state !== "running") this.#all.delete(id);
    }
  }
}
