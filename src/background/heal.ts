/**
 * Heal: bring an object back to k + m good shards, and walk a bucket doing so.
 *
 * How this works
 * - Under the key's write lock (no write or read of the key runs meanwhile) the version a read
 *   quorum agrees on is resolved. A drive of the set needs healing when its record does not agree
 *   (missing, corrupt, stale or newer without quorum) or when any of its shard files is missing,
 *   short, or has a frame whose HighwayHash-256 fails (every frame is read and checked).
 * - For each part the shards are decoded block by block and re-encoded. The damaged drives' shard
 *   files are read too: damage is per frame, so one block may need a frame that only a drive
 *   being healed still holds intact (PartDecoder checks every frame and never returns bad bytes;
 *   the new files go to a temp dir, so nothing read is overwritten while it is read); only the frames of the drives being healed are kept, written to a temp
 *   data dir on each, fsynced, then moved into place and the agreeing record written (its own
 *   shard index). Inline objects get their framed shard in the record itself.
 * - A drive that fails while being healed is left as it was; the object stays readable from the
 *   others. Nothing is written unless a read quorum agreed on the version first.
 * - Data dirs of the key that the agreed record does not name (a crash between moving data in and
 *   writing the record, or before the old data dir went) are removed on every drive.
 * - A key no read quorum holds, whose records linger on a few drives (a delete made while they
 *   were away, a write that crashed before its quorum), is "dangling": once every drive answers,
 *   those records and data dirs are removed (ErasureSet.purgeDangling). A bucket walk meets such
 *   keys because it reads every drive's keys, not a listing (which hides them).
 * - `HealQueue` collects keys that reads found damaged (heal-on-read) and heals them one at a time
 *   in the background, each key at most once while queued.
 */
import {
  HEAL_OBJECTS_PER_SECOND_MAX,
  HEAL_QUEUE_KEYS_MAX,
  HEAL_RETRY_AFTER_MS,
  HEAL_WALK_PAGE_KEYS,
} from "../config/limits.ts";
import {
  checkShardHeader,
  encodeStream,
  frameIsValid,
  frameOffset,
  HASH_BYTES,
  PartDecoder,
  partLayout,
  SHARD_HEADER_BYTES,
  shardFileBytes,
  type ShardSink,
} from "../erasure/mod.ts";
import type { ShaleObjectLayer } from "../object/object_layer.ts";
import { ObjectNotFound } from "../object/errors.ts";
import { COMMIT_MARKER } from "../object/_set.ts";
import {
  dataDirName,
  decodeName,
  type Drive,
  encodeObjectRecord,
  type FileReader,
  type FileWriter,
  keyPath,
  META_FILE,
  TMP_DIR,
  type VersionRecord,
} from "../storage/mod.ts";
import { logger } from "../util/logger.ts";

export interface HealResult {
  /**
   * "ok": nothing to do; "healed": `drives` were rewritten; "gone": no such object; "purged": no
   * such object, and the records some drives still held (dangling, see purgeDangling) removed.
   */
  state: "ok" | "healed" | "gone" | "purged";
  /** Drives (set positions, 0-based) found damaged. */
  damaged: number[];
  /** Drives healed (a subset of damaged: a failing drive stays damaged). */
  healed: number[];
  /** Drives that lack the object but are gone (missing or unreadable): left to a later heal. */
  offline: number[];
  /** Data directories no agreed record refers to (left by crashed commits), removed. */
  orphansRemoved: number;
  /** The object's size when it was healed (MinIO counts healed bytes likewise), else 0. */
  bytes: number;
}

/**
 * True when the drive holds every shard file of `v`, complete, and (deep) with good frames. A
 * shallow check only compares file sizes: it finds lost and short files, not flipped bits.
 */
async function shardsIntact(
  d: Drive,
  dir: string,
  v: VersionRecord,
  deep: boolean,
): Promise<boolean> {
  if (v.inline !== undefined || v.dataDir === "") return v.inline !== undefined || v.size === 0;
  const { k, blockBytes } = v.erasure;
  for (const p of v.parts) {
    const l = partLayout(p.size, blockBytes, k);
    const path = `${dir}/${dataDirName(v.dataDir)}/part.${p.number}`;
    if (!deep) {
      const st = await d.stat(path).catch(() => undefined);
      if (st === undefined || st.size !== shardFileBytes(l)) return false;
      continue;
    }
    let r: FileReader | undefined;
    try {
      r = await d.openFile(path);
      if (await r.size() !== shardFileBytes(l)) return false;
      if (!checkShardHeader(await r.readAt(0, SHARD_HEADER_BYTES))) return false;
      for (let b = 0; b < l.blocks; b++) {
        const s = Math.ceil(Math.min(blockBytes, p.size - b * blockBytes) / k);
        if (!frameIsValid(await r.readAt(frameOffset(l, b), HASH_BYTES + s), s)) return false;
      }
    } catch {
      return false;
    } finally {
      r?.close();
    }
  }
  return true;
}

/**
 * Removes the key's data dirs other than `keep` on every drive. Safe under the key's write lock:
 * commits place data dirs only under it, and an acknowledged version is on a write quorum, so no
 * other version can have a read quorum (k + write quorum > n).
 */
async function removeOrphans(
  slots: ReadonlyArray<Drive | undefined>,
  dir: string,
  keep: string,
): Promise<number> {
  let n = 0;
  await Promise.all(slots.map(async (d) => {
    if (d === undefined) return;
    try {
      for (const e of await d.list(dir)) {
        const name = decodeName(e.name);
        if (name.kind !== "dataDir" || name.dataDir === keep) continue;
        await d.remove(`${dir}/${e.name}`);
        n++;
      }
    } catch { /* an unreadable drive keeps its orphans until the next heal */ }
  }));
  return n;
}

async function* blocksOf(decoder: PartDecoder, blocks: number): AsyncGenerator<Uint8Array> {
  for (let b = 0; b < blocks; b++) yield await decoder.readBlock(b);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Heals one object: see "How this works" above. `deep` (the default) reads and checks every
 * shard frame; shallow only checks records and shard file sizes (the scanner's cheap walk).
 */
export async function healObject(
  layer: ShaleObjectLayer,
  bucket: string,
  key: string,
  opts: { deep?: boolean } = {},
): Promise<HealResult> {
  const deep = opts.deep ?? true;
  const set = layer.setFor(bucket, key);
  const kp = keyPath(bucket, key);
  const unlock = await set.ctx.locker.lock(`${bucket}/${key}`, "write");
  try {
    let r;
    try {
      r = await set.resolveVersion(bucket, key);
    } catch (e) {
      if (e instanceof ObjectNotFound) {
        const purged = await set.purgeDangling(bucket, key);
        return {
          state: purged.length > 0 ? "purged" : "gone",
          damaged: purged,
          healed: purged,
          offline: [],
          orphansRemoved: 0,
          bytes: 0,
        };
      }
      throw e;
    }
    const v = r.version;
    const dist = v.erasure.distribution;
    const damaged: number[] = [];
    await Promise.all(set.slots.map(async (d, i) => {
      if (d === undefined) return;
      const mine = r.agreeing[i];
      if (mine === undefined || !(await shardsIntact(d, kp.dir, mine, deep))) damaged.push(i);
    }));
    // A drive that is gone (its root missing or unreadable) cannot take the shards: it is left
    // for a heal after it comes back rather than failing once per object.
    const offline: number[] = [];
    for (const i of [...damaged]) {
      if ((await set.slots[i]!.probe().catch(() => "unreadable")) === "ok") continue;
      offline.push(i);
      damaged.splice(damaged.indexOf(i), 1);
    }
    damaged.sort((a, b) => a - b);
    offline.sort((a, b) => a - b);
    const orphansRemoved = await removeOrphans(set.slots, kp.dir, v.dataDir);
    if (damaged.length === 0) {
      return { state: "ok", damaged, healed: [], offline, orphansRemoved, bytes: 0 };
    }

    const { k, m, blockBytes } = v.erasure;
    const targetShard = new Map(damaged.map((i) => [dist[i]! - 1, i]));
    const inline = v.inline !== undefined;
    const tmpId = crypto.randomUUID();
    const tmpDir = `${TMP_DIR}/${tmpId}/${v.dataDir}`;
    const alive = new Set(damaged);
    const inlineBufs = new Map<number, Uint8Array[]>();
    try {
      const parts = v.parts.length > 0
        ? v.parts
        : [{ number: 1, size: v.size, etag: v.etag, modTimeMs: v.modTimeMs, checksums: {} }];
      for (const p of parts) {
        const readers: FileReader[] = [];
        const sources = set.sourcesFor(bucket, key, r, p.number, readers);
        const layout = partLayout(p.size, blockBytes, k);
        const decoder = new PartDecoder({ k, m, layout, sources });
        const writers = new Map<number, FileWriter>();
        const sinks: Array<ShardSink | undefined> = new Array(k + m).fill(undefined);
        for (const [shard, slot] of targetShard) {
          if (!alive.has(slot)) continue;
          if (inline) {
            const bufs: Uint8Array[] = [];
            inlineBufs.set(slot, bufs);
            sinks[shard] = {
              write: (c) => {
                bufs.push(c.slice());
                return Promise.resolve();
              },
            };
            continue;
          }
          try {
            const w = await set.slots[slot]!.createFile(`${tmpDir}/part.${p.number}`);
            writers.set(slot, w);
            sinks[shard] = w;
          } catch (e) {
            alive.delete(slot);
            logger.warn("Heal could not write to a drive", {
              drive: set.slots[slot]?.path,
              error: e,
            });
          }
        }
        if (sinks.every((s) => s === undefined)) break;
        try {
          const res = await encodeStream(blocksOf(decoder, layout.blocks), {
            k,
            m,
            blockBytes,
            sinks,
            writeQuorum: 1,
            sizeHint: p.size,
          });
          res.alive.forEach((ok, shard) => {
            const slot = targetShard.get(shard);
            if (!ok && slot !== undefined) alive.delete(slot);
          });
          await Promise.all([...writers].map(async ([slot, w]) => {
            if (!alive.has(slot)) return await w.abort();
            await w.close().catch(() => alive.delete(slot));
          }));
        } finally {
          for (const rd of readers) rd.close();
        }
      }
      // Move each healed drive's data into place and write its record.
      const healed: number[] = [];
      await Promise.all([...alive].map(async (slot) => {
        const d = set.slots[slot]!;
        try {
          for (const nf of kp.nameFiles) {
            if (await d.stat(nf.path) === undefined) {
              await d.writeFile(nf.path, new TextEncoder().encode(nf.segment));
            }
          }
          const rec: VersionRecord = {
            ...v,
            erasure: { ...v.erasure, shardIndex: dist[slot]! },
          };
          if (inline) rec.inline = concat(inlineBufs.get(slot) ?? []);
          else if (v.dataDir !== "") {
            // As a commit: a crash before the record leaves a marker for start-up recovery.
            await d.writeFile(
              `${TMP_DIR}/${tmpId}/${COMMIT_MARKER}`,
              new TextEncoder().encode(`${kp.dir}\n${v.dataDir}`),
            );
            await d.remove(`${kp.dir}/${dataDirName(v.dataDir)}`);
            await d.rename(tmpDir, `${kp.dir}/${dataDirName(v.dataDir)}`);
          }
          await d.writeFile(`${kp.dir}/${META_FILE}`, encodeObjectRecord({ versions: [rec] }));
          healed.push(slot);
        } catch (e) {
          logger.warn("Heal failed on a drive", { drive: d.path, bucket, key, error: e });
        }
      }));
      healed.sort((a, b) => a - b);
      logger.info("Object healed", { bucket, key, damaged: damaged.length, healed: healed.length });
      return { state: "healed", damaged, healed, offline, orphansRemoved, bytes: v.size };
    } finally {
      await Promise.all(set.slots.map((d) => d?.remove(`${TMP_DIR}/${tmpId}`).catch(() => {})));
    }
  } finally {
    unlock();
  }
}

export interface HealCounters {
  /** Objects checked. */
  scanned: number;
  /** Objects that had damaged drives, all of them rewritten. */
  healed: number;
  /** Objects that could not be healed (too few good shards, drives failing). */
  failed: number;
  /** Sizes of the objects healed. */
  bytes: number;
}

export function newCounters(): HealCounters {
  return { scanned: 0, healed: 0, failed: 0, bytes: 0 };
}

/** Every heal of this process, for metrics: the counters plus when the last object was checked. */
export class HealTotals {
  readonly counters: HealCounters = newCounters();
  /** Date.now() of the last object checked, or undefined before the first. */
  lastActivityMs: number | undefined;
}

/** Heals one object and counts the outcome into each of `into` (never throws). */
export async function healAndCount(
  layer: ShaleObjectLayer,
  target: { bucket: string; key: string; deep?: boolean },
  into: Array<HealCounters | HealTotals | undefined>,
): Promise<HealResult | undefined> {
  const { bucket, key } = target;
  let res: HealResult | undefined;
  try {
    res = await healObject(layer, bucket, key, { deep: target.deep ?? true });
  } catch (e) {
    logger.warn("Heal failed", { bucket, key, error: e });
  }
  const failed = res === undefined ||
    (res.state === "healed" && res.healed.length < res.damaged.length);
  if (res !== undefined && failed) {
    logger.warn("Heal left drives damaged", {
      bucket,
      key,
      damaged: res.damaged.length,
      healed: res.healed.length,
    });
  }
  for (const x of into) {
    if (x === undefined) continue;
    const c = x instanceof HealTotals ? x.counters : x;
    if (x instanceof HealTotals) x.lastActivityMs = Date.now();
    c.scanned++;
    if (failed) c.failed++;
    else if (res?.state === "healed" || res?.state === "purged") {
      c.healed++;
      c.bytes += res.bytes;
    }
  }
  return res;
}

/**
 * Walks a bucket (or the keys under `prefix`) in key order and heals every object, at most
 * `objectsPerSecondMax` a second (HEAL_OBJECTS_PER_SECOND_MAX by default) so foreground traffic
 * keeps the drives. Counts into `counters` as it goes (progress) and into `totals` (metrics).
 */
export async function healBucket(
  layer: ShaleObjectLayer,
  bucket: string,
  opts: {
    objectsPerSecondMax?: number;
    signal?: AbortSignal;
    prefix?: string;
    counters?: HealCounters;
    totals?: HealTotals;
    /** Read every shard frame (default), or only compare records and file sizes. */
    deep?: boolean;
  } = {},
): Promise<HealCounters> {
  const rate = opts.objectsPerSecondMax ?? HEAL_OBJECTS_PER_SECOND_MAX;
  const c = opts.counters ?? newCounters();
  const mine = newCounters();
  const started = performance.now();
  let after = "";
  while (!opts.signal?.aborted) {
    // Every drive's keys, not a listing: heal must also meet keys no read quorum holds.
    const keys = await layer.keysOnAnyDrive(bucket, {
      prefix: opts.prefix ?? "",
      after,
      max: HEAL_WALK_PAGE_KEYS,
    });
    for (const key of keys) {
      if (opts.signal?.aborted) break;
      await healAndCount(layer, { bucket, key, deep: opts.deep ?? true }, [
        c,
        mine,
        opts.totals,
      ]);
      const due = started + (mine.scanned / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait, opts.signal);
    }
    if (keys.length < HEAL_WALK_PAGE_KEYS) break;
    after = keys[keys.length - 1]!;
  }
  logger.info("Bucket heal finished", { bucket, ...mine });
  return c;
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/** Keys found damaged while serving reads, healed one at a time in the background. */
export class HealQueue {
  readonly #pending = new Map<string, { bucket: string; key: string }>();
  /** Keys whose last heal could not finish -> when; not queued again before HEAL_RETRY_AFTER_MS. */
  readonly #unfinished = new Map<string, number>();
  #running: Promise<void> | undefined;
  #closed = false;
  readonly counters: HealCounters = newCounters();

  constructor(readonly layer: ShaleObjectLayer, readonly totals?: HealTotals) {}

  /** Queues a key (dropped when HEAL_QUEUE_KEYS_MAX keys already wait: the scanner finds it). */
  add(bucket: string, key: string): void {
    const id = `${bucket}/${key}`;
    if (this.#closed || this.#pending.has(id) || this.#pending.size >= HEAL_QUEUE_KEYS_MAX) {
      return;
    }
    const since = this.#unfinished.get(id);
    if (since !== undefined) {
      if (performance.now() - since < HEAL_RETRY_AFTER_MS) return;
      this.#unfinished.delete(id);
    }
    this.#pending.set(id, { bucket, key });
    this.#running ??= this.#drain().finally(() => this.#running = undefined);
  }

  /** Resolves once every queued key was healed (or failed). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Drops what waits and resolves once the object being healed is done (shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pending.clear();
    await this.idle();
  }

  async #drain(): Promise<void> {
    for (const [id, target] of this.#pending) {
      this.#pending.delete(id);
      const res = await healAndCount(this.layer, target, [this.counters, this.totals]);
      const unfinished = res === undefined || res.offline.length > 0 ||
        res.healed.length < res.damaged.length;
      if (unfinished) {
        // Bounded: the oldest entries go first.
        for (const old of this.#unfinished.keys()) {
          if (this.#unfinished.size < HEAL_QUEUE_KEYS_MAX) break;
          this.#unfinished.delete(old);
        }
        this.#unfinished.set(id, performance.now());
      }
    }
  }
}
