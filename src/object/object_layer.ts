/**
 * The object layer over erasure sets: buckets (on every drive), routing keys to their set,
 * listing (merged walks of m+1 drives per set), multipart bookkeeping and health.
 */
import { BUCKET_METADATA_BYTES_MAX, LIST_PAGE_ENTRIES_MAX } from "../config/limits.ts";
import { geometry, setIndexFor } from "../erasure/mod.ts";
import {
  type BucketRecord,
  compareKeys,
  CorruptRecord,
  decodeBucketRecord,
  type Drive,
  encodeBucketRecord,
  FileNotFound,
  FsDrive,
  SYSTEM_DIR,
} from "../storage/mod.ts";
import { toHex } from "../util/checksums.ts";
import { logger } from "../util/logger.ts";
import { DirCache, walkDrive, type WalkEntry } from "./_listing.ts";
import { ListCache, type ListEntry } from "./_list_cache.ts";
import { ErasureSet, type SetContext, uploadsRoot, uploadToInfo } from "./_set.ts";
import type { Md5Offload } from "./md5_offload.ts";
import { startDrives } from "./_startup.ts";
import { BucketExists, BucketNotEmpty, BucketNotFound, QuorumLost } from "./errors.ts";
import { LocalLocker, type Locker } from "./locker.ts";
import type {
  BucketConfigName,
  BucketInfo,
  CompleteOptions,
  CompletePart,
  DriveStatus,
  ListObjectsOptions,
  ListObjectsResult,
  ListPartsOptions,
  ListPartsResult,
  ListUploadsOptions,
  ListUploadsResult,
  MultipartUploadInfo,
  NewMultipartOptions,
  ObjectInfo,
  ObjectLayer,
  ObjectReader,
  PartInfo,
  PutObjectOptions,
  PutPartOptions,
  StorageStatus,
} from "./types.ts";

export interface ObjectLayerOptions {
  /** Already expanded from MinIO's ellipsis syntax, in order. */
  drives: string[];
  /** From SHALE_STORAGE_CLASS_STANDARD=EC:n; default per DESIGN.md. */
  standardParity?: number;
  /** REDUCED_REDUNDANCY; default 1 (as MinIO), capped at the standard parity. */
  reducedParity?: number;
}

export async function openObjectLayer(opts: ObjectLayerOptions): Promise<ShaleObjectLayer> {
  return await openObjectLayerOn(opts.drives.map((p) => new FsDrive(p)), opts);
}

/** The same on any Drive implementation (memory, faulty, remote). */
export async function openObjectLayerOn(
  drives: Drive[],
  opts: {
    standardParity?: number | undefined;
    reducedParity?: number | undefined;
    locker?: Locker;
  },
): Promise<ShaleObjectLayer> {
  const started = await startDrives(drives, opts);
  return new ShaleObjectLayer(drives, started.deploymentId, started.sets, {
    standardParity: started.standardParity,
    reducedParity: started.reducedParity,
    locker: opts.locker ?? new LocalLocker(),
  });
}

const BUCKETS_DIR = `${SYSTEM_DIR}/buckets`;
const bucketFile = (b: string) => `${BUCKETS_DIR}/${b}/bucket.meta`;

export class ShaleObjectLayer implements ObjectLayer {
  readonly sets: ErasureSet[];
  readonly #cache = new DirCache();
  readonly #listCache = new ListCache();
  readonly #buckets = new Map<string, BucketInfo>();
  /** Bucket records as last read or written here (single node: this process is the writer). */
  readonly #bucketRecords = new Map<string, BucketRecord>();
  readonly #locker: Locker;
  readonly #allDrives: Drive[];
  readonly #online: Array<Drive | undefined>;
  /** Drive path -> when a listing last warned about it (one warning a minute). */
  readonly #listWarned = new Map<string, number>();
  /** Told about every key a read found damaged on some drive (heal on read, src/background). */
  onDamaged: ((bucket: string, key: string) => void) | undefined;
  /** Where the MD5 (ETag) of large bodies runs; the caller owns and closes it. Else inline. */
  md5Offload: Md5Offload | undefined;

  constructor(
    drives: Drive[],
    readonly deploymentId: string,
    sets: Array<Array<Drive | undefined>>,
    opts: { standardParity: number; reducedParity: number; locker: Locker },
  ) {
    this.#allDrives = drives;
    this.#online = sets.flat();
    this.#locker = opts.locker;
    const ctx: SetContext = {
      locker: opts.locker,
      standardParity: opts.standardParity,
      reducedParity: opts.reducedParity,
      touched: (b: string, key: string) => this.#cache.touch(b, key),
      damaged: (b: string, k: string) => this.onDamaged?.(b, k),
      md5Offload: () => this.md5Offload,
    };
    this.sets = sets.map((slots, i) => new ErasureSet(i, slots, ctx));
  }

  setFor(bucket: string, key: string): ErasureSet {
    return this.sets[setIndexFor(this.deploymentId, bucket, key, this.sets.length)]!;
  }

  // -------------------------------------------------------------------------------------------
  // Buckets: a directory plus a record on every drive; each set needs its write quorum.

  #quorumOk(done: boolean[]): boolean {
    let at = 0;
    for (const set of this.sets) {
      const ok = done.slice(at, at + set.n).filter(Boolean).length;
      at += set.n;
      if (ok < set.geometryFor("STANDARD").writeQuorum) return false;
    }
    return true;
  }

  async #readBucket(bucket: string): Promise<BucketRecord | undefined> {
    const cached = this.#bucketRecords.get(bucket);
    if (cached !== undefined) return cached;
    const rec = await this.#readBucketFromDrives(bucket);
    if (rec !== undefined) this.#bucketRecords.set(bucket, rec);
    return rec;
  }

  async #readBucketFromDrives(bucket: string): Promise<BucketRecord | undefined> {
    const results = await Promise.all(this.#online.map(async (d) => {
      if (d === undefined) return "offline" as const;
      try {
        return await d.readFile(bucketFile(bucket), BUCKET_METADATA_BYTES_MAX);
      } catch (e) {
        return e instanceof FileNotFound ? "missing" as const : "offline" as const;
      }
    }));
    const groups = new Map<string, { rec: BucketRecord; n: number }>();
    let missing = 0;
    for (const r of results) {
      if (r === "missing") missing++;
      if (typeof r === "string") continue;
      try {
        const rec = decodeBucketRecord(r);
        const id = toHex(r.subarray(r.length - 32));
        const g = groups.get(id);
        if (g === undefined) groups.set(id, { rec, n: 1 });
        else g.n++;
      } catch (e) {
        if (!(e instanceof CorruptRecord)) throw e;
        missing++;
      }
    }
    const half = Math.ceil(results.length / 2);
    const best = [...groups.values()].sort((a, b) => b.n - a.n)[0];
    if (best !== undefined && best.n >= half) return best.rec;
    if (missing > results.length - half || groups.size === 0 && missing > 0 && missing >= half) {
      return undefined;
    }
    throw new QuorumLost(`Too few drives agree on bucket "${bucket}"`, bucket);
  }

  async #requireBucket(bucket: string): Promise<BucketInfo> {
    const hit = this.#buckets.get(bucket);
    if (hit !== undefined) return hit;
    const rec = await this.#readBucket(bucket);
    if (rec === undefined) throw new BucketNotFound(`Bucket "${bucket}" not found`, bucket);
    const info = { name: bucket, created: new Date(rec.createdMs) };
    this.#buckets.set(bucket, info);
    return info;
  }

  async #writeBucket(bucket: string, rec: BucketRecord, makeDir: boolean): Promise<boolean[]> {
    const bytes = encodeBucketRecord(rec);
    return await Promise.all(this.#online.map(async (d) => {
      if (d === undefined) return false;
      try {
        if (makeDir) await d.makeDir(bucket);
        await d.writeFile(bucketFile(bucket), bytes);
        return true;
      } catch (e) {
        logger.warn("Drive failed to store bucket metadata", { drive: d.path, bucket, error: e });
        return false;
      }
    }));
  }

  async makeBucket(bucket: string): Promise<void> {
    const unlock = await this.#locker.lock(`bucket:${bucket}`, "write");
    try {
      this.#bucketRecords.delete(bucket);
      if (await this.#readBucket(bucket) !== undefined) {
        throw new BucketExists(`Bucket "${bucket}" already exists`, bucket);
      }
      const done = await this.#writeBucket(bucket, { createdMs: Date.now(), configs: [] }, true);
      if (!this.#quorumOk(done)) {
        await this.#removeBucketEverywhere(bucket);
        throw new QuorumLost(`Too few drives could create bucket "${bucket}"`, bucket);
      }
      this.#buckets.delete(bucket);
      this.#cache.touch(bucket);
    } finally {
      unlock();
    }
  }

  async getBucketInfo(bucket: string): Promise<BucketInfo> {
    return await this.#requireBucket(bucket);
  }

  async listBuckets(): Promise<BucketInfo[]> {
    const names = new Set<string>();
    for (const d of this.#online) {
      if (d === undefined) continue;
      try {
        for (const e of await d.list(BUCKETS_DIR)) if (e.isDir) names.add(e.name);
      } catch { /* no buckets yet, or offline */ }
    }
    const out: BucketInfo[] = [];
    for (const name of [...names].sort()) {
      const rec = await this.#readBucket(name);
      if (rec !== undefined) out.push({ name, created: new Date(rec.createdMs) });
    }
    return out;
  }

  async deleteBucket(bucket: string): Promise<void> {
    const unlock = await this.#locker.lock(`bucket:${bucket}`, "write");
    try {
      await this.#requireBucket(bucket);
      const page = await this.listObjects(bucket, {
        prefix: "",
        delimiter: "",
        after: "",
        maxKeys: 1,
      });
      if (page.objects.length > 0) {
        throw new BucketNotEmpty(`Bucket "${bucket}" is not empty`, bucket);
      }
      for (const set of this.sets) {
        if ((await set.listUploads(bucket)).length > 0) {
          throw new BucketNotEmpty(`Bucket "${bucket}" has multipart uploads in progress`, bucket);
        }
      }
      await this.#removeBucketEverywhere(bucket);
      this.#buckets.delete(bucket);
      this.#bucketRecords.delete(bucket);
      this.#cache.touch(bucket);
    } finally {
      unlock();
    }
  }

  async #removeBucketEverywhere(bucket: string): Promise<void> {
    await Promise.all(this.#online.map(async (d) => {
      if (d === undefined) return;
      await d.remove(bucketFile(bucket)).catch(() => {});
      await d.remove(`${BUCKETS_DIR}/${bucket}`).catch(() => {});
      await d.remove(uploadsRoot(bucket)).catch(() => {});
      await d.remove(bucket).catch(() => {});
    }));
  }

  async getBucketConfig(bucket: string, name: BucketConfigName): Promise<string | undefined> {
    const rec = await this.#readBucket(bucket);
    if (rec === undefined) throw new BucketNotFound(`Bucket "${bucket}" not found`, bucket);
    return rec.configs.find(([n]) => n === name)?.[1];
  }

  async putBucketConfig(
    bucket: string,
    name: BucketConfigName,
    value: string | undefined,
  ): Promise<void> {
    const unlock = await this.#locker.lock(`bucket:${bucket}`, "write");
    try {
      const rec = await this.#readBucket(bucket);
      if (rec === undefined) throw new BucketNotFound(`Bucket "${bucket}" not found`, bucket);
      const configs = rec.configs.filter(([n]) => n !== name);
      if (value !== undefined) configs.push([name, value]);
      const next = { createdMs: rec.createdMs, configs };
      this.#bucketRecords.delete(bucket);
      const done = await this.#writeBucket(bucket, next, false);
      if (this.#quorumOk(done)) this.#bucketRecords.set(bucket, next);
      else {
        throw new QuorumLost(`Too few drives stored the ${name} of "${bucket}"`, bucket);
      }
    } finally {
      unlock();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Objects

  async putObject(
    bucket: string,
    key: string,
    body: ReadableStream<Uint8Array>,
    opts: PutObjectOptions,
  ): Promise<ObjectInfo> {
    try {
      await this.#requireBucket(bucket);
    } catch (e) {
      await body.cancel().catch(() => {});
      throw e;
    }
    return await this.setFor(bucket, key).putObject(bucket, key, body, opts);
  }

  async getObjectInfo(bucket: string, key: string): Promise<ObjectInfo> {
    await this.#requireBucket(bucket);
    return await this.setFor(bucket, key).getObjectInfo(bucket, key);
  }

  async openObject(bucket: string, key: string): Promise<ObjectReader> {
    await this.#requireBucket(bucket);
    return await this.setFor(bucket, key).openObject(bucket, key);
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.#requireBucket(bucket);
    await this.setFor(bucket, key).deleteObject(bucket, key);
  }

  async putObjectInternal(
    bucket: string,
    key: string,
    internal: Record<string, string>,
    expected: { etag: string; internal: Record<string, string> | undefined },
  ): Promise<ObjectInfo | undefined> {
    await this.#requireBucket(bucket);
    return await this.setFor(bucket, key).putObjectInternal(bucket, key, internal, expected);
  }

  async putObjectTags(
    bucket: string,
    key: string,
    tags: Array<[string, string]>,
  ): Promise<ObjectInfo> {
    await this.#requireBucket(bucket);
    return await this.setFor(bucket, key).putObjectTags(bucket, key, tags);
  }

  // -------------------------------------------------------------------------------------------
  // Listing

  /**
   * Up to `max` keys after `after` that any online drive holds a record of, in order: heal's
   * walk, which must also meet keys no read quorum holds (a listing hides those).
   */
  async keysOnAnyDrive(
    bucket: string,
    opts: { prefix: string; after: string; max: number },
  ): Promise<string[]> {
    await this.#requireBucket(bucket);
    const keys: string[] = [];
    // Leaving the loop (break or throw) closes the walk.
    for await (const { key } of this.#merged(bucket, opts.prefix, opts.after, undefined, true)) {
      if (!key.startsWith(opts.prefix)) continue;
      keys.push(key);
      if (keys.length >= opts.max) break;
    }
    return keys;
  }

  /**
   * Keys of all sets in order; per key, the records seen on the walked drives of its set. A
   * listing walks m + 1 drives of each set (enough to meet every key a write quorum holds);
   * `everyDrive` walks them all.
   */
  async *#merged(
    bucket: string,
    prefix: string,
    after: string,
    skip: string | undefined,
    everyDrive = false,
  ): AsyncGenerator<{ key: string; set: ErasureSet; seen: Uint8Array[]; walked: number }> {
    interface Walker {
      set: ErasureSet;
      drive: Drive;
      gen: AsyncGenerator<WalkEntry>;
      head: WalkEntry | undefined;
    }
    const walkers: Walker[] = [];
    const walkedPerSet = new Map<ErasureSet, number>();
    /** Drives of each set not walked yet: a walker whose drive fails moves to one of them. */
    const spares = new Map<ErasureSet, Drive[]>();
    const walkOpts = (from: string) =>
      skip === undefined ? { bucket, prefix, after: from } : { bucket, prefix, after: from, skip };
    for (const set of this.sets) {
      const m = set.geometryFor("STANDARD").m;
      const online = set.slots.filter((d): d is Drive => d !== undefined);
      const drives = everyDrive ? online : online.slice(0, m + 1);
      spares.set(set, online.slice(drives.length));
      walkedPerSet.set(set, drives.length);
      for (const d of drives) {
        walkers.push({
          set,
          drive: d,
          gen: walkDrive(d, this.#cache, walkOpts(after)),
          head: undefined,
        });
      }
    }
    /** The last key yielded: everything up to it has been merged already. */
    let lastYielded = after;
    const advance = async (w: Walker): Promise<void> => {
      while (true) {
        try {
          const r = await w.gen.next();
          w.head = r.done ? undefined : r.value;
          return;
        } catch (e) {
          const now = Date.now();
          if ((this.#listWarned.get(w.drive.path) ?? 0) < now - 60_000) {
            this.#listWarned.set(w.drive.path, now);
            logger.warn("A drive failed while listing; continuing on another drive", {
              drive: w.drive.path,
              bucket,
              error: e,
            });
          }
          const spare = spares.get(w.set)!.shift();
          if (spare === undefined) {
            w.head = undefined;
            return;
          }
          w.drive = spare;
          w.gen = walkDrive(spare, this.#cache, walkOpts(lastYielded));
        }
      }
    };
    await Promise.all(walkers.map(advance));
    try {
      while (true) {
        let min: string | undefined;
        for (const w of walkers) {
          if (w.head !== undefined && (min === undefined || compareKeys(w.head.key, min) < 0)) {
            min = w.head.key;
          }
        }
        if (min === undefined) return;
        const same = walkers.filter((w) => w.head?.key === min);
        const set = same[0]!.set;
        const seen = same.filter((w) => w.set === set).map((w) => w.head!.meta);
        lastYielded = min;
        yield { key: min, set, seen, walked: walkedPerSet.get(set)! };
        await Promise.all(same.map(advance));
      }
    } finally {
      await Promise.all(walkers.map((w) => w.gen.return(undefined).catch(() => {})));
    }
  }

  async listObjects(bucket: string, opts: ListObjectsOptions): Promise<ListObjectsResult> {
    await this.#requireBucket(bucket);
    const { prefix, delimiter } = opts;
    const maxKeys = Math.min(opts.maxKeys, LIST_PAGE_ENTRIES_MAX);
    const result: ListObjectsResult = { objects: [], prefixes: [], isTruncated: false };
    if (maxKeys <= 0) return result;
    const gen = this.#cache.generation(bucket);
    const freshSince = (g: number) => this.#cache.unchangedSince(bucket, g, prefix);
    const run = this.#listCache.take(bucket, prefix, delimiter, freshSince, opts.after, maxKeys);
    let entries: ListEntry[];
    let truncated: boolean;
    if (run !== undefined && (run.more || run.complete)) {
      ({ entries, more: truncated } = run);
    } else if (run !== undefined) {
      // The snapshot ends inside this page: walk on from its end.
      const from = run.end;
      const w = await this.#walkEntries(
        bucket,
        prefix,
        delimiter,
        from,
        maxKeys - run.entries.length,
      );
      if (freshSince(run.snapshot.gen)) {
        this.#listCache.extend(run, from, w.entries, !w.truncated);
      }
      entries = [...run.entries, ...w.entries];
      truncated = w.truncated;
    } else {
      const w = await this.#walkEntries(bucket, prefix, delimiter, opts.after, maxKeys);
      if (freshSince(gen)) {
        this.#listCache.add(bucket, prefix, delimiter, gen, opts.after, w.entries, !w.truncated);
      }
      ({ entries, truncated } = w);
    }
    for (const e of entries) {
      if (e.info === undefined) result.prefixes.push(e.key);
      else result.objects.push({ ...e.info }); // cached infos are shared: callers get copies
    }
    if (truncated && entries.length > 0) {
      result.isTruncated = true;
      result.nextAfter = entries[entries.length - 1]!.key;
    }
    return result;
  }

  /**
   * Up to `max` entries (objects and common prefixes) after `after`, from the drives; `truncated`
   * when at least one more exists.
   */
  async #walkEntries(
    bucket: string,
    prefix: string,
    delimiter: string,
    after: string,
    max: number,
  ): Promise<{ entries: ListEntry[]; truncated: boolean }> {
    const entries: ListEntry[] = [];
    let truncated = false;
    let skip: string | undefined;
    if (delimiter !== "" && after.startsWith(prefix)) {
      const i = after.indexOf(delimiter, prefix.length);
      if (i >= 0) skip = after.slice(0, i + delimiter.length);
    }
    let walk = this.#merged(bucket, prefix, after, skip);
    try {
      while (true) {
        const r = await walk.next();
        if (r.done) break;
        const { key, set, seen, walked } = r.value;
        if (!key.startsWith(prefix)) continue;
        if (delimiter !== "") {
          const i = key.indexOf(delimiter, prefix.length);
          if (i >= 0) {
            const cp = key.slice(0, i + delimiter.length);
            if (entries.length === max) {
              truncated = true;
              break;
            }
            entries.push({ key: cp, info: undefined });
            // Jump past every key under this prefix.
            await walk.return(undefined);
            walk = this.#merged(bucket, prefix, cp, cp);
            continue;
          }
        }
        const info = await set.infoFromListing(bucket, key, seen, walked);
        if (info === undefined) continue;
        if (entries.length === max) {
          truncated = true;
          break;
        }
        entries.push({ key, info });
      }
    } finally {
      await walk.return(undefined);
    }
    return { entries, truncated };
  }

  // -------------------------------------------------------------------------------------------
  // Multipart

  async newMultipartUpload(
    bucket: string,
    key: string,
    opts: NewMultipartOptions,
  ): Promise<string> {
    await this.#requireBucket(bucket);
    return await this.setFor(bucket, key).newMultipartUpload(bucket, key, opts);
  }

  async getMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<MultipartUploadInfo> {
    await this.#requireBucket(bucket);
    return await this.setFor(bucket, key).getMultipartUpload(bucket, key, uploadId);
  }

  async putObjectPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    opts: PutPartOptions,
  ): Promise<PartInfo> {
    try {
      await this.#requireBucket(bucket);
    } catch (e) {
      await body.cancel().catch(() => {});
      throw e;
    }
    return await this.setFor(bucket, key).putObjectPart(
      bucket,
      key,
      uploadId,
      partNumber,
      body,
      opts,
    );
  }

  async listParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts: ListPartsOptions,
  ): Promise<ListPartsResult> {
    await this.#requireBucket(bucket);
    const { upload, parts } = await this.setFor(bucket, key).listParts(bucket, key, uploadId);
    const after = parts.filter((p) => p.partNumber > opts.partNumberMarker);
    const max = Math.max(0, Math.min(opts.maxParts, LIST_PAGE_ENTRIES_MAX));
    const page = after.slice(0, max);
    const res: ListPartsResult = { upload, parts: page, isTruncated: after.length > page.length };
    if (res.isTruncated && page.length > 0) {
      res.nextPartNumberMarker = page[page.length - 1]!.partNumber;
    }
    return res;
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.#requireBucket(bucket);
    await this.setFor(bucket, key).abortMultipartUpload(bucket, key, uploadId);
  }

  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts: CompleteOptions,
  ): Promise<ObjectInfo> {
    await this.#requireBucket(bucket);
    return await this.setFor(bucket, key).completeMultipartUpload(
      bucket,
      key,
      uploadId,
      parts,
      opts,
    );
  }

  async listMultipartUploads(
    bucket: string,
    opts: ListUploadsOptions,
  ): Promise<ListUploadsResult> {
    await this.#requireBucket(bucket);
    const all = (await Promise.all(this.sets.map((s) => s.listUploads(bucket)))).flat()
      .filter((u) => u.key.startsWith(opts.prefix))
      .sort((a, b) =>
        compareKeys(a.key, b.key) || a.initiatedMs - b.initiatedMs ||
        compareKeys(a.uploadId, b.uploadId)
      );
    // After the markers: keys after keyMarker, or the same key with uploads after uploadIdMarker.
    let start = 0;
    if (opts.keyMarker !== "") {
      start = all.findIndex((u) => {
        const c = compareKeys(u.key, opts.keyMarker);
        if (c > 0) return true;
        if (c < 0 || opts.uploadIdMarker === "") return false;
        const marker = all.find((x) => x.key === u.key && x.uploadId === opts.uploadIdMarker);
        return marker !== undefined &&
          (u.initiatedMs > marker.initiatedMs ||
            u.initiatedMs === marker.initiatedMs && compareKeys(u.uploadId, marker.uploadId) > 0);
      });
      if (start < 0) start = all.length;
    }
    const max = Math.max(0, Math.min(opts.maxUploads, LIST_PAGE_ENTRIES_MAX));
    const res: ListUploadsResult = { uploads: [], prefixes: [], isTruncated: false };
    let lastKey: string | undefined, lastId: string | undefined;
    for (let i = start; i < all.length; i++) {
      const u = all[i]!;
      let cp: string | undefined;
      if (opts.delimiter !== "") {
        const j = u.key.indexOf(opts.delimiter, opts.prefix.length);
        if (j >= 0) cp = u.key.slice(0, j + opts.delimiter.length);
      }
      if (cp !== undefined && res.prefixes[res.prefixes.length - 1] === cp) continue;
      if (res.uploads.length + res.prefixes.length >= max) {
        res.isTruncated = true;
        break;
      }
      if (cp !== undefined) {
        res.prefixes.push(cp);
        lastKey = cp;
        lastId = undefined;
      } else {
        res.uploads.push(uploadToInfo(u));
        lastKey = u.key;
        lastId = u.uploadId;
      }
    }
    if (res.isTruncated) {
      if (lastKey !== undefined) res.nextKeyMarker = lastKey;
      if (lastId !== undefined) res.nextUploadIdMarker = lastId;
    }
    return res;
  }

  // -------------------------------------------------------------------------------------------
  // Health

  async status(): Promise<StorageStatus> {
    const drives: DriveStatus[] = await Promise.all(this.#allDrives.map(async (d, i) => {
      if (this.#online[i] === undefined) return { path: d.path, state: "offline" as const };
      const p = await d.probe();
      if (p !== "ok") return { path: d.path, state: "offline" as const };
      try {
        const s = await d.space();
        return {
          path: d.path,
          state: "ok" as const,
          totalBytes: s.totalBytes,
          freeBytes: s.freeBytes,
        };
      } catch {
        return { path: d.path, state: "faulty" as const };
      }
    }));
    let writable = true, readable = true, at = 0;
    for (const set of this.sets) {
      const ok = drives.slice(at, at + set.n).filter((d) => d.state === "ok").length;
      at += set.n;
      const g = geometry(set.n, set.geometryFor("STANDARD").m);
      if (ok < g.writeQuorum) writable = false;
      if (ok < g.readQuorum) readable = false;
    }
    return { drives, writable, readable };
  }

  async close(): Promise<void> {
    await Promise.all(this.#allDrives.map((d) => d.close()));
  }
}
