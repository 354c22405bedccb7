/**
 * One erasure set: the drives a key hashes to, and every operation on keys and uploads of it.
 *
 * How this works
 * - Write: the body is encoded block by block into shard files under each drive's tmp dir (no
 *   lock held), fsynced, then under the key's write lock the conditions are checked and each drive
 *   renames the data dir into place and writes its metadata record durably. The write succeeds
 *   when at least the write quorum of drives committed; otherwise the drives that did commit are
 *   rolled back to their old record and QuorumLost is thrown. Old data dirs go after the commit.
 * - Read: every drive's record is read; the version that a read quorum (k) of drives agrees on
 *   (same mod time, data dir and ETag) wins. Shards come only from drives that agree with it.
 * - A drive that fails mid-operation is dropped for that operation only; a read that meets a
 *   missing or bad record or shard tells `ctx.damaged`, and src/background heals the key.
 */
import {
  ERASURE_BLOCK_BYTES,
  INLINE_DATA_BYTES_MAX,
  METADATA_RECORD_BYTES_MAX,
  OBJECT_SIZE_BYTES_MAX,
  PART_NOTE_CHARS_MAX,
  PART_SIZE_BYTES_MAX,
  PART_SIZE_BYTES_MIN,
  PUT_OBJECT_SIZE_BYTES_MAX,
  READ_AHEAD_BLOCKS_MAX,
} from "../config/limits.ts";
import {
  BITROT_HIGHWAY256,
  distributionFor,
  encodeStream,
  type Geometry,
  geometry,
  InsufficientShards,
  PartDecoder,
  partLayout,
  type ShardSink,
  type ShardSource,
} from "../erasure/mod.ts";
import {
  CorruptRecord,
  dataDirName,
  decodeName,
  decodeObjectRecord,
  decodePartRecord,
  decodeUploadRecord,
  type DirEntry,
  type Drive,
  encodeObjectRecord,
  encodePartRecord,
  encodeUploadRecord,
  FileNotFound,
  type FileReader,
  type KeyPath,
  keyPath,
  META_FILE,
  NAME_FILE,
  type PartFileRecord,
  type PartRecord,
  type RawChecksums,
  SYSTEM_DIR,
  TMP_DIR,
  type UploadRecord,
  type VersionRecord,
} from "../storage/mod.ts";
import { assert } from "../util/assert.ts";
import { concatBytes } from "../util/bytes.ts";
import { combineCrc, createHasher, createHasherSync, toBase64, toHex } from "../util/checksums.ts";
import { logger } from "../util/logger.ts";
import {
  BitrotDetected,
  EntityTooLarge,
  InvalidPart,
  InvalidPartOrder,
  ObjectNotFound,
  PartTooSmall,
  PreconditionFailed,
  QuorumLost,
  UploadNotFound,
} from "./errors.ts";
import {
  BodyHasher,
  md5Hex,
  metadataToPairs,
  meteredBody,
  pairsToMetadata,
  partToInfo,
  transformedBody,
  unquoteEtag,
  versionToInfo,
} from "./_info.ts";
import type { Md5Offload } from "./md5_offload.ts";
import type { Locker } from "./locker.ts";
import type {
  ChecksumAlgorithm,
  CompleteOptions,
  CompletePart,
  MultipartUploadInfo,
  NewMultipartOptions,
  ObjectInfo,
  ObjectReader,
  PartInfo,
  PutObjectOptions,
  PutPartOptions,
  StorageClass,
  WriteConditions,
} from "./types.ts";

export interface SetContext {
  locker: Locker;
  standardParity: number;
  reducedParity: number;
  /** Called after anything under a bucket changed (listing caches). */
  touched(bucket: string, key: string): void;
  /** Called when a read finds a drive's record or shard of the key missing or bad (heal). */
  damaged?(bucket: string, key: string): void;
  /** Where the MD5 of large bodies runs (the server's worker); inline when absent. */
  md5Offload?(): Md5Offload | undefined;
}

type Slot = Drive | undefined;
type ReadResult =
  | { state: "ok"; bytes: Uint8Array }
  | { state: "missing" }
  | { state: "corrupt" }
  | { state: "offline" };

interface Resolved {
  version: VersionRecord;
  /** Per slot: the agreeing record's version (this drive's shard index, inline data). */
  agreeing: Array<VersionRecord | undefined>;
}

interface EncodedData {
  kind: "inline" | "files";
  size: number;
  tmpId: string;
  dataDir: string;
  /** Per slot: the drive holds all shards of this write. */
  alive: boolean[];
  /** Per slot, inline only: the framed shard file. */
  inline: Array<Uint8Array | undefined>;
}

const ENC = new TextEncoder();
const UPLOAD_FILE = "upload.meta";

function uploadDir(bucket: string, key: string, uploadId: string): string {
  const h = createHasherSync("SHA256");
  h.update(ENC.encode(key));
  return `${SYSTEM_DIR}/multipart/${bucket}/${toHex(h.digest())}/${uploadId}`;
}
export function uploadsRoot(bucket: string): string {
  return `${SYSTEM_DIR}/multipart/${bucket}`;
}

function versionKey(v: VersionRecord): string {
  return `${v.modTimeMs}|${v.dataDir}|${v.etag}`;
}

function translate(e: unknown, bucket: string, key: string): unknown {
  if (e instanceof InsufficientShards) {
    return e.bitrot
      ? new BitrotDetected(e.message, bucket, key)
      : new QuorumLost(e.message, bucket, key);
  }
  return e;
}

async function settle<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch {
    return undefined;
  }
}

export class ErasureSet {
  readonly n: number;
  /** The smallest write quorum any parity gives: more drives missing a record means "absent". */
  readonly #writeQuorumMin: number;

  constructor(readonly index: number, readonly slots: Slot[], readonly ctx: SetContext) {
    this.n = slots.length;
    let wq = this.n;
    for (let m = 0; m <= Math.floor(this.n / 2); m++) {
      wq = Math.min(wq, geometry(this.n, m).writeQuorum);
    }
    this.#writeQuorumMin = wq;
  }

  geometryFor(storageClass: StorageClass | undefined): Geometry {
    const m = storageClass === "REDUCED_REDUNDANCY"
      ? this.ctx.reducedParity
      : this.ctx.standardParity;
    return geometry(this.n, m);
  }

  async #readAll(path: string): Promise<ReadResult[]> {
    return await Promise.all(this.slots.map(async (d): Promise<ReadResult> => {
      if (d === undefined) return { state: "offline" };
      try {
        const bytes = await d.tryReadFile(path, METADATA_RECORD_BYTES_MAX);
        return bytes === undefined ? { state: "missing" } : { state: "ok", bytes };
      } catch {
        return { state: "offline" };
      }
    }));
  }

  #absent(results: ReadResult[]): boolean {
    return results.filter((r) => r.state === "missing").length > this.n - this.#writeQuorumMin;
  }

  /** Picks the newest version a read quorum agrees on; undefined when the key is absent. */
  #resolve(results: ReadResult[], bucket: string, key: string): Resolved | undefined {
    const groups = new Map<string, Array<[number, VersionRecord]>>();
    results.forEach((r, i) => {
      if (r.state !== "ok") return;
      let v: VersionRecord | undefined;
      try {
        v = decodeObjectRecord(r.bytes).versions[0];
      } catch (e) {
        if (!(e instanceof CorruptRecord)) throw e;
        logger.warn("Corrupt metadata record ignored", {
          drive: this.slots[i]?.path,
          bucket,
          key,
          error: e,
        });
        (results as ReadResult[])[i] = { state: "corrupt" };
        return;
      }
      if (v === undefined) return;
      const id = versionKey(v);
      let g = groups.get(id);
      if (g === undefined) groups.set(id, g = []);
      g.push([i, v]);
    });
    let best: Array<[number, VersionRecord]> | undefined;
    for (const g of groups.values()) {
      const v = g[0]![1];
      if (g.length < v.erasure.k) continue;
      if (best === undefined || v.modTimeMs > best[0]![1].modTimeMs) best = g;
    }
    if (best === undefined) {
      if (this.#absent(results)) return;
      const corrupt = results.filter((r) => r.state === "corrupt").length;
      if (corrupt > 0) {
        throw new BitrotDetected(
          `The object's metadata is corrupt on ${corrupt} drives and no read quorum agrees (${
            this.#summary(results)
          })`,
          bucket,
          key,
        );
      }
      throw new QuorumLost(
        `Too few drives agree on the object's metadata (${this.#summary(results)})`,
        bucket,
        key,
      );
    }
    const agreeing: Array<VersionRecord | undefined> = new Array(this.n).fill(undefined);
    for (const [i, v] of best) agreeing[i] = v;
    return { version: best[0]![1], agreeing };
  }

  #allAnswered(results: ReadResult[]): boolean {
    return results.every((r) => r.state === "missing" || r.state === "corrupt");
  }

  #summary(results: ReadResult[]): string {
    const c = { ok: 0, missing: 0, corrupt: 0, offline: 0 };
    for (const r of results) c[r.state]++;
    return `${c.ok} ok, ${c.missing} missing, ${c.corrupt} corrupt, ${c.offline} offline`;
  }

  async resolveVersion(bucket: string, key: string): Promise<Resolved> {
    const kp = keyPath(bucket, key);
    const r = this.#resolve(await this.#readAll(`${kp.dir}/${META_FILE}`), bucket, key);
    if (r === undefined) throw new ObjectNotFound(`Object "${key}" not found`, bucket, key);
    return r;
  }

  async getObjectInfo(bucket: string, key: string): Promise<ObjectInfo> {
    return versionToInfo(bucket, key, (await this.resolveVersion(bucket, key)).version);
  }

  /** Records as seen by a listing: decoded from bytes a walker read, checked by quorum if needed. */
  infoFromListing(
    bucket: string,
    key: string,
    seen: Uint8Array[],
    walked: number,
  ): Promise<ObjectInfo | undefined> | ObjectInfo | undefined {
    if (seen.length === walked && walked > 0) {
      try {
        const vs = seen.map((b) => decodeObjectRecord(b).versions[0]);
        const first = vs[0];
        if (
          first !== undefined &&
          vs.every((v) => v !== undefined && versionKey(v) === versionKey(first))
        ) {
          return versionToInfo(bucket, key, first);
        }
      } catch (e) {
        if (!(e instanceof CorruptRecord)) throw e;
      }
    }
    return this.getObjectInfo(bucket, key).catch((e) => {
      if (e instanceof ObjectNotFound) return undefined;
      throw e;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Writing shards

  /** Encodes a body into shard files under each drive's tmp dir (or inline records). */
  async #encode(
    chunks: AsyncGenerator<Uint8Array>,
    g: Geometry,
    dist: number[],
    opts: {
      sizeHint: number;
      allowInline: boolean;
      fileName: string;
      bucket: string;
      key: string;
      /** The directory the data dir will be renamed into: recorded for crash recovery. */
      target?: string;
    },
  ): Promise<EncodedData> {
    const tmpId = crypto.randomUUID();
    const dataDir = crypto.randomUUID();
    // Decide inline: known size below the threshold, or an unknown size that ends before it.
    let source: AsyncIterable<Uint8Array> = chunks;
    let inline = false;
    let sizeHint = opts.sizeHint;
    if (opts.allowInline) {
      if (opts.sizeHint >= 0) inline = opts.sizeHint < INLINE_DATA_BYTES_MAX;
      else {
        const head: Uint8Array[] = [];
        let headBytes = 0;
        let ended = false;
        while (headBytes < INLINE_DATA_BYTES_MAX) {
          const r = await chunks.next();
          if (r.done) {
            ended = true;
            break;
          }
          head.push(r.value);
          headBytes += r.value.length;
        }
        inline = ended && headBytes < INLINE_DATA_BYTES_MAX;
        if (inline) sizeHint = headBytes;
        source = (async function* () {
          yield* head;
          if (!ended) yield* chunks;
        })();
      }
    }
    const alive = this.slots.map((d) => d !== undefined);
    if (inline) {
      const bufs = Array.from({ length: g.n }, () => [] as Uint8Array[]);
      const sinks: ShardSink[] = bufs.map((b) => ({
        write(c: Uint8Array) {
          b.push(c.slice());
          return Promise.resolve();
        },
      }));
      const res = await encodeStream(source, {
        k: g.k,
        m: g.m,
        blockBytes: ERASURE_BLOCK_BYTES,
        sinks,
        writeQuorum: g.writeQuorum,
        sizeHint,
      });
      const files = bufs.map((b) => concatBytes(...b));
      return {
        kind: "inline",
        size: res.size,
        tmpId,
        dataDir: "",
        alive,
        inline: dist.map((shard) => files[shard - 1]),
      };
    }
    const path = `${TMP_DIR}/${tmpId}/${dataDir}/${opts.fileName}`;
    // Written beside the data while it is encoded: if we crash after moving the data dir into
    // place but before its record, start-up finds the orphan through this marker.
    const target = opts.target;
    const markers = target === undefined ? undefined : Promise.all(
      this.slots.map((d) =>
        d === undefined ? false : writeCommitMarker(d, tmpId, target, dataDir).then(
          () => true,
          () => false,
        )
      ),
    );
    markers?.catch(() => {});
    const writers = await Promise.all(
      this.slots.map((d) => d === undefined ? undefined : settle(d.createFile(path))),
    );
    const sinks: Array<ShardSink | undefined> = new Array(g.n).fill(undefined);
    writers.forEach((w, i) => {
      if (w === undefined) alive[i] = false;
      sinks[dist[i]! - 1] = w;
    });
    const cleanup = async () => {
      await markers?.catch(() => {});
      await Promise.all(writers.map((w) => w?.abort().catch(() => {})));
      await this.#removeTmp(tmpId);
    };
    try {
      const res = await encodeStream(source, {
        k: g.k,
        m: g.m,
        blockBytes: ERASURE_BLOCK_BYTES,
        sinks,
        writeQuorum: g.writeQuorum,
        sizeHint,
        onSinkFailed: (shard, e) => {
          const slot = dist.indexOf(shard + 1);
          logger.warn("Drive dropped from a write", {
            drive: this.slots[slot]?.path,
            bucket: opts.bucket,
            key: opts.key,
            error: e,
          });
          writers[slot]?.abort().catch(() => {});
        },
      });
      res.alive.forEach((a, shard) => {
        if (!a) alive[dist.indexOf(shard + 1)] = false;
      });
      await Promise.all(writers.map(async (w, i) => {
        if (w === undefined || !alive[i]) return;
        try {
          await w.close();
        } catch (e) {
          alive[i] = false;
          logger.warn("Drive failed to sync a shard file", {
            drive: this.slots[i]?.path,
            error: e,
          });
        }
      }));
      const n = alive.filter(Boolean).length;
      if (n < g.writeQuorum) {
        throw new QuorumLost(
          `Only ${n} of ${g.n} drives stored the data, write quorum is ${g.writeQuorum}`,
          opts.bucket,
          opts.key,
        );
      }
      (await markers)?.forEach((ok, i) => {
        if (!ok) alive[i] = false;
      });
      const left = alive.filter(Boolean).length;
      if (left < g.writeQuorum) {
        throw new QuorumLost(
          `Only ${left} of ${g.n} drives stored the data, write quorum is ${g.writeQuorum}`,
          opts.bucket,
          opts.key,
        );
      }
      return { kind: "files", size: res.size, tmpId, dataDir, alive, inline: [] };
    } catch (e) {
      await cleanup();
      throw translate(e, opts.bucket, opts.key);
    }
  }

  async #removeTmp(tmpId: string): Promise<void> {
    await Promise.all(this.slots.map((d) => d?.remove(`${TMP_DIR}/${tmpId}`).catch(() => {})));
  }

  // -------------------------------------------------------------------------------------------
  // Commit

  #checkConditions(
    current: Resolved | undefined,
    conditions: WriteConditions | undefined,
    bucket: string,
    key: string,
  ): void {
    if (conditions === undefined) return;
    if (conditions.ifNoneMatch !== undefined && current !== undefined) {
      throw new PreconditionFailed(`Object "${key}" already exists`, bucket, key);
    }
    if (conditions.ifMatch !== undefined) {
      const want = unquoteEtag(conditions.ifMatch);
      if (current === undefined) {
        throw new PreconditionFailed(`Object "${key}" does not exist`, bucket, key);
      }
      if (want !== "*" && want !== current.version.etag) {
        throw new PreconditionFailed(`Object "${key}" has another ETag`, bucket, key);
      }
    }
  }

  async #writeNameFiles(d: Drive, kp: KeyPath): Promise<void> {
    for (const nf of kp.nameFiles) {
      if (await d.stat(nf.path) === undefined) await d.writeFile(nf.path, ENC.encode(nf.segment));
    }
  }

  /**
   * Under the key's write lock: check conditions, then on each drive move the data into place
   * (`place`) and write its record. Rolls back and throws QuorumLost below the write quorum.
   */
  async #commit(
    bucket: string,
    key: string,
    g: Geometry,
    build: (slot: number) => VersionRecord,
    opts: {
      alive: boolean[];
      conditions: WriteConditions | undefined;
      place?: ((d: Drive, slot: number, kp: KeyPath) => Promise<void>) | undefined;
      unplace?: (d: Drive, slot: number, kp: KeyPath) => Promise<void>;
      locked?: boolean;
    },
  ): Promise<VersionRecord> {
    const kp = keyPath(bucket, key);
    const unlock = opts.locked ? () => {} : await this.ctx.locker.lock(`${bucket}/${key}`, "write");
    try {
      const before = await this.#readAll(`${kp.dir}/${META_FILE}`);
      let current: Resolved | undefined;
      try {
        current = this.#resolve(before, bucket, key);
      } catch (e) {
        // An unconditional write replaces whatever is there, rotten records included.
        const unreadable = e instanceof QuorumLost || e instanceof BitrotDetected;
        if (!unreadable || opts.conditions !== undefined) throw e;
      }
      this.#checkConditions(current, opts.conditions, bucket, key);
      const newDataDir = build(0).dataDir;
      // Without `place` no marker came with the data: if old data dirs go after this record, a
      // crash in between would leave them unreferenced, so mark the key dir for start-up.
      const marker = opts.place === undefined
        ? await this.#markKeyDir(before, kp.dir, newDataDir)
        : undefined;
      const committed = await Promise.all(this.slots.map(async (d, i) => {
        if (d === undefined || !opts.alive[i]) return false;
        try {
          await this.#writeNameFiles(d, kp);
          await opts.place?.(d, i, kp);
          await d.writeFile(`${kp.dir}/${META_FILE}`, encodeObjectRecord({ versions: [build(i)] }));
          return true;
        } catch (e) {
          logger.warn("Drive failed to commit an object", { drive: d.path, bucket, key, error: e });
          return false;
        }
      }));
      const ok = committed.filter(Boolean).length;
      if (ok < g.writeQuorum) {
        // Roll back every drive that was asked to commit: one that failed may still have
        // renamed its new record into place before failing to sync the directory.
        await Promise.all(this.slots.map(async (d, i) => {
          if (d === undefined || !opts.alive[i]) return;
          const old = before[i]!;
          try {
            if (old.state === "ok") await d.writeFile(`${kp.dir}/${META_FILE}`, old.bytes);
            else await d.remove(`${kp.dir}/${META_FILE}`);
            if (opts.unplace !== undefined) await opts.unplace(d, i, kp);
            else if (newDataDir !== "") await d.remove(`${kp.dir}/${dataDirName(newDataDir)}`);
          } catch (e) {
            logger.error("Rollback failed on a drive", { drive: d.path, bucket, key, error: e });
          }
        }));
        if (marker !== undefined) await this.#removeTmp(marker);
        this.ctx.touched(bucket, key); // listings may have seen the rolled-back record
        throw new QuorumLost(
          `Only ${ok} of ${g.n} drives committed, write quorum is ${g.writeQuorum}`,
          bucket,
          key,
        );
      }
      // Old data dirs (and orphans of crashed writes) go once the new record is durable.
      await Promise.all(this.slots.map(async (d, i) => {
        if (d === undefined || !committed[i]) return;
        await this.#removeDataDirs(d, kp.dir, newDataDir).catch(() => {});
      }));
      if (marker !== undefined) await this.#removeTmp(marker);
      this.ctx.touched(bucket, key);
      return build(0);
    } finally {
      unlock();
    }
  }

  /**
   * When a record of the key names a data dir other than `keep` (or cannot be read), writes a
   * commit marker naming the key dir on every drive and returns its tmp id: start-up removes the
   * data dirs no record names in marked key dirs (FORMAT.md, "Start-up recovery").
   */
  async #markKeyDir(before: ReadResult[], dir: string, keep: string): Promise<string | undefined> {
    const named = before.some((r) => {
      if (r.state !== "ok") return false;
      try {
        return decodeObjectRecord(r.bytes).versions.some((v) =>
          v.dataDir !== "" && v.dataDir !== keep
        );
      } catch {
        return true;
      }
    });
    if (!named) return undefined;
    const id = crypto.randomUUID();
    await Promise.all(
      this.slots.map((d) => d && writeCommitMarker(d, id, dir, "").catch(() => {})),
    );
    return id;
  }

  async #removeDataDirs(d: Drive, dir: string, keep: string): Promise<void> {
    for (const e of await d.list(dir)) {
      const n = decodeName(e.name);
      if (n.kind === "dataDir" && n.dataDir !== keep) await d.remove(`${dir}/${e.name}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Objects

  /** The MD5 worker's terms for a body of `size` bytes (-1: unknown), when the server has one. */
  #offload(size: number): { md5: Md5Offload; size: number } | undefined {
    const md5 = this.ctx.md5Offload?.();
    return md5 !== undefined ? { md5, size } : undefined;
  }

  async putObject(
    bucket: string,
    key: string,
    body: ReadableStream<Uint8Array>,
    opts: PutObjectOptions,
  ): Promise<ObjectInfo> {
    const storageClass = opts.storageClass ?? "STANDARD";
    const g = this.geometryFor(storageClass);
    const dist = distributionFor(bucket, key, g.n);
    const hasher = await BodyHasher.create(opts.checksumAlgorithms, this.#offload(opts.size));
    const counted = { bytes: 0 };
    const chunks = transformedBody(
      meteredBody(body, {
        size: opts.size,
        sizeMax: PUT_OBJECT_SIZE_BYTES_MAX,
        hasher,
        bucket,
        key,
      }),
      opts.transform,
      counted,
    );
    const data = await this.#encode(chunks, g, dist, {
      sizeHint: opts.transform?.storedSize ?? opts.size,
      allowInline: true,
      fileName: "part.1",
      bucket,
      key,
      target: keyPath(bucket, key).dir,
    }).catch((e) => {
      hasher.dispose();
      throw e;
    });
    const tmp = `${TMP_DIR}/${data.tmpId}/${data.dataDir}`;
    try {
      const digest = await hasher.finish();
      await opts.verify?.({
        size: counted.bytes,
        md5: digest.md5,
        checksums: Object.fromEntries(
          Object.entries(digest.raw).map(([a, v]) => [a, toBase64(v)]),
        ),
      });
      const now = Date.now();
      const etag = opts.transform?.etag?.(digest.md5) ?? md5Hex(digest.md5);
      const base: VersionRecord = {
        versionId: "null",
        modTimeMs: now,
        dataDir: data.dataDir,
        size: data.size,
        etag,
        storageClass,
        checksums: digest.raw,
        erasure: {
          k: g.k,
          m: g.m,
          blockBytes: ERASURE_BLOCK_BYTES,
          shardIndex: 1,
          distribution: dist,
          bitrot: BITROT_HIGHWAY256,
        },
        parts: [{ number: 1, size: data.size, etag, modTimeMs: now, checksums: {} }],
        metadata: metadataToPairs(opts.metadata),
        tags: opts.tags ?? [],
      };
      if (opts.checksumType !== undefined) base.checksumType = opts.checksumType;
      const v = await this.#commit(bucket, key, g, (i) => {
        const rec: VersionRecord = { ...base, erasure: { ...base.erasure, shardIndex: dist[i]! } };
        const inl = data.inline[i];
        if (inl !== undefined) rec.inline = inl;
        return rec;
      }, {
        alive: data.alive,
        conditions: opts.conditions,
        place: data.kind === "files"
          ? (d, _i, kp) => d.rename(tmp, `${kp.dir}/${dataDirName(data.dataDir)}`)
          : undefined,
      });
      return versionToInfo(bucket, key, v);
    } finally {
      if (data.kind === "files") await this.#removeTmp(data.tmpId);
    }
  }

  async openObject(bucket: string, key: string): Promise<ObjectReader> {
    const unlock = await this.ctx.locker.lock(`${bucket}/${key}`, "read");
    try {
      const r = await this.resolveVersion(bucket, key);
      // A drive that answered but does not hold the agreed version needs healing.
      if (this.slots.some((d, i) => d !== undefined && r.agreeing[i] === undefined)) {
        this.ctx.damaged?.(bucket, key);
      }
      return new SetObjectReader(this, bucket, key, r, unlock);
    } catch (e) {
      unlock();
      throw e;
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const kp = keyPath(bucket, key);
    const unlock = await this.ctx.locker.lock(`${bucket}/${key}`, "write");
    try {
      const before = await this.#readAll(`${kp.dir}/${META_FILE}`);
      if (before.every((r) => r.state !== "ok")) {
        if (this.#absent(before) || this.#allAnswered(before)) return;
      }
      const marker = await this.#markKeyDir(before, kp.dir, "");
      const done = await Promise.all(this.slots.map(async (d) => {
        if (d === undefined) return false;
        try {
          await this.#removeKey(d, kp, bucket);
          return true;
        } catch {
          return false;
        }
      }));
      const ok = done.filter(Boolean).length;
      if (marker !== undefined) await this.#removeTmp(marker);
      const wq = this.geometryFor("STANDARD").writeQuorum;
      this.ctx.touched(bucket, key);
      if (ok < wq) {
        throw new QuorumLost(`Only ${ok} of ${this.n} drives deleted the object`, bucket, key);
      }
    } finally {
      unlock();
    }
  }

  /**
   * Heal of a key no version of which a read quorum holds (the caller has the key's write lock).
   * When every drive of the set answered, records left on fewer drives than that (by a delete
   * made while those drives were away, or a write that crashed before its quorum) can never be
   * read: no version has k shards. They and every data dir of the key are removed, so that a later
   * loss of other drives cannot make them look like an object that lost its quorum (503 instead
   * of 404). Returns the slots whose leftovers were removed; none while any drive is offline,
   * since its record might complete a quorum.
   */
  async purgeDangling(bucket: string, key: string): Promise<number[]> {
    const kp = keyPath(bucket, key);
    const results = await this.#readAll(`${kp.dir}/${META_FILE}`);
    if (results.some((r) => r.state === "offline")) return [];
    try {
      if (this.#resolve(results, bucket, key) !== undefined) return [];
    } catch {
      return []; // corrupt records or a lost quorum: not provably dangling
    }
    const purged: number[] = [];
    await Promise.all(this.slots.map(async (d, i) => {
      if (d === undefined || results[i]!.state === "missing") return;
      try {
        await this.#removeKey(d, kp, bucket);
        purged.push(i);
      } catch (e) {
        logger.warn("Could not remove a dangling record", { drive: d.path, bucket, key, error: e });
      }
    }));
    return purged.sort((a, b) => a - b);
  }

  /**
   * Removes a key's record, its data dirs and the directories left empty from one drive. The
   * record goes first (the version leaves this drive at once); one fsync at the end makes every
   * unlink durable.
   */
  async #removeKey(d: Drive, kp: KeyPath, bucket: string): Promise<void> {
    await d.remove(`${kp.dir}/${META_FILE}`, { sync: false });
    let entries: DirEntry[] = [];
    try {
      entries = await d.list(kp.dir);
    } catch (e) {
      if (!(e instanceof FileNotFound)) throw e;
    }
    const left: DirEntry[] = [];
    for (const e of entries) {
      if (decodeName(e.name).kind !== "dataDir") left.push(e);
      else await d.remove(`${kp.dir}/${e.name}`, { sync: false });
    }
    // A long segment's name file goes only when nothing else is left beside it.
    if (left.length === 1 && left[0]!.name === NAME_FILE) {
      await d.remove(`${kp.dir}/${NAME_FILE}`, { sync: false });
    }
    await d.remove(`${kp.dir}/${META_FILE}`, { pruneTo: bucket, sync: true });
  }

  async putObjectTags(
    bucket: string,
    key: string,
    tags: Array<[string, string]>,
  ): Promise<ObjectInfo> {
    const unlock = await this.ctx.locker.lock(`${bucket}/${key}`, "write");
    try {
      const r = await this.resolveVersion(bucket, key);
      await this.#rewriteRecords(bucket, key, r, { tags }, "the tags");
      return versionToInfo(bucket, key, { ...r.version, tags });
    } finally {
      unlock();
    }
  }

  /**
   * Under the key's write lock: rewrites the record of every drive that agreed on the current
   * version with `change` applied (no data moves). QuorumLost below the write quorum.
   */
  async #rewriteRecords(
    bucket: string,
    key: string,
    r: Resolved,
    change: Partial<VersionRecord>,
    what: string,
  ): Promise<void> {
    const kp = keyPath(bucket, key);
    const g = geometry(this.n, r.version.erasure.m);
    const done = await Promise.all(this.slots.map(async (d, i) => {
      const v = r.agreeing[i];
      if (d === undefined || v === undefined) return false;
      try {
        const rec = { versions: [{ ...v, ...change }] };
        await d.writeFile(`${kp.dir}/${META_FILE}`, encodeObjectRecord(rec));
        return true;
      } catch {
        return false;
      }
    }));
    const ok = done.filter(Boolean).length;
    this.ctx.touched(bucket, key);
    if (ok < g.writeQuorum) {
      throw new QuorumLost(`Only ${ok} of ${this.n} drives stored ${what}`, bucket, key);
    }
  }

  /**
   * Replaces the internal metadata (and nothing else) of the current version, only while its
   * ETag and internal metadata are still `expected` (SSE key rotation re-seals a data key this
   * way without rewriting data; a concurrent overwrite wins and is left alone).
   */
  async putObjectInternal(
    bucket: string,
    key: string,
    internal: Record<string, string>,
    expected: { etag: string; internal: Record<string, string> | undefined },
  ): Promise<ObjectInfo | undefined> {
    const unlock = await this.ctx.locker.lock(`${bucket}/${key}`, "write");
    try {
      const r = await this.resolveVersion(bucket, key);
      const current = pairsToMetadata(r.version.metadata);
      const same = (a: Record<string, string> | undefined, b: Record<string, string> | undefined) =>
        JSON.stringify(Object.entries(a ?? {}).sort()) ===
          JSON.stringify(Object.entries(b ?? {}).sort());
      if (r.version.etag !== expected.etag || !same(current.internal, expected.internal)) {
        return undefined;
      }
      const metadata = metadataToPairs({ ...current, internal });
      await this.#rewriteRecords(bucket, key, r, { metadata }, "the metadata");
      return versionToInfo(bucket, key, { ...r.version, metadata });
    } finally {
      unlock();
    }
  }

  /** Shard sources of one part, indexed by shard. */
  sourcesFor(
    bucket: string,
    key: string,
    r: Resolved,
    partNumber: number,
    readers: FileReader[],
  ): Array<ShardSource | undefined> {
    const kp = keyPath(bucket, key);
    const sources: Array<ShardSource | undefined> = new Array(this.n).fill(undefined);
    r.agreeing.forEach((v, i) => {
      const d = this.slots[i];
      if (v === undefined || d === undefined) return;
      const shard = v.erasure.shardIndex - 1;
      if (v.inline !== undefined) {
        const bytes = v.inline;
        sources[shard] = { readAt: (o, n) => Promise.resolve(bytes.subarray(o, o + n)) };
        return;
      }
      if (v.dataDir === "") return;
      let opened: Promise<FileReader> | undefined;
      const path = `${kp.dir}/${dataDirName(v.dataDir)}/part.${partNumber}`;
      const open = () => {
        if (opened === undefined) {
          opened = d.openFile(path);
          opened.then((f) => readers.push(f), () => {});
        }
        return opened;
      };
      sources[shard] = {
        readAt: async (o, n) => await (await open()).readAt(o, n),
        readInto: async (o, into) => await (await open()).readInto(o, into),
      };
    });
    return sources;
  }

  // -------------------------------------------------------------------------------------------
  // Multipart

  async newMultipartUpload(
    bucket: string,
    key: string,
    opts: NewMultipartOptions,
  ): Promise<string> {
    const storageClass = opts.storageClass ?? "STANDARD";
    const g = this.geometryFor(storageClass);
    const uploadId = crypto.randomUUID();
    const rec: UploadRecord = {
      bucket,
      key,
      uploadId,
      initiatedMs: Date.now(),
      storageClass,
      k: g.k,
      m: g.m,
      distribution: distributionFor(bucket, key, g.n),
      metadata: metadataToPairs(opts.metadata),
      tags: opts.tags ?? [],
    };
    if (opts.checksumAlgorithm !== undefined) rec.checksumAlg = opts.checksumAlgorithm;
    if (opts.checksumType !== undefined) rec.checksumType = opts.checksumType;
    const bytes = encodeUploadRecord(rec);
    const dir = uploadDir(bucket, key, uploadId);
    const done = await Promise.all(
      this.slots.map((d) =>
        d === undefined
          ? false
          : d.writeFile(`${dir}/${UPLOAD_FILE}`, bytes).then(() => true, () => false)
      ),
    );
    const ok = done.filter(Boolean).length;
    if (ok < g.writeQuorum) {
      await Promise.all(this.slots.map((d) => d?.remove(dir).catch(() => {})));
      throw new QuorumLost(`Only ${ok} of ${g.n} drives stored the upload`, bucket, key);
    }
    return uploadId;
  }

  async #readUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    if (!/^[0-9a-f-]{36}$/.test(uploadId)) {
      throw new UploadNotFound(`Upload "${uploadId}" not found`, bucket, key);
    }
    const dir = uploadDir(bucket, key, uploadId);
    const results = await this.#readAll(`${dir}/${UPLOAD_FILE}`);
    const groups = new Map<string, { rec: UploadRecord; n: number }>();
    for (const r of results) {
      if (r.state !== "ok") continue;
      try {
        const rec = decodeUploadRecord(r.bytes);
        if (rec.bucket !== bucket || rec.key !== key || rec.uploadId !== uploadId) continue;
        const id = toHex(r.bytes.subarray(r.bytes.length - 32));
        const g = groups.get(id);
        if (g === undefined) groups.set(id, { rec, n: 1 });
        else g.n++;
      } catch (e) {
        if (!(e instanceof CorruptRecord)) throw e;
      }
    }
    for (const g of groups.values()) if (g.n >= g.rec.k) return g.rec;
    if (
      this.#absent(results) || this.#allAnswered(results) ||
      groups.size === 0 && this.#absentOrOffline(results)
    ) {
      throw new UploadNotFound(`Upload "${uploadId}" not found`, bucket, key);
    }
    throw new QuorumLost(`Too few drives agree on upload "${uploadId}"`, bucket, key);
  }

  #absentOrOffline(results: ReadResult[]): boolean {
    // No drive has any record and the missing ones alone could not hide a quorum.
    return results.every((r) => r.state !== "ok") &&
      results.filter((r) => r.state === "missing").length >= 1 &&
      this.#absent(results);
  }

  async getMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<MultipartUploadInfo> {
    return uploadToInfo(await this.#readUpload(bucket, key, uploadId));
  }

  async putObjectPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    opts: PutPartOptions,
  ): Promise<PartInfo> {
    assert(Number.isInteger(partNumber) && partNumber >= 1, `Bad part number ${partNumber}`);
    const up = await this.#readUpload(bucket, key, uploadId);
    const g = geometry(this.n, up.m);
    const algs = [...(opts.checksumAlgorithms ?? [])];
    if (up.checksumAlg !== undefined && !algs.includes(up.checksumAlg)) algs.push(up.checksumAlg);
    const hasher = await BodyHasher.create(algs, this.#offload(opts.size));
    const counted = { bytes: 0 };
    const chunks = transformedBody(
      meteredBody(body, {
        size: opts.size,
        sizeMax: PART_SIZE_BYTES_MAX,
        hasher,
        bucket,
        key,
      }),
      opts.transform,
      counted,
    );
    const fileName = `part.${partNumber}`;
    const data = await this.#encode(chunks, g, up.distribution, {
      sizeHint: opts.transform?.storedSize ?? opts.size,
      allowInline: false,
      fileName,
      bucket,
      key,
    }).catch((e) => {
      hasher.dispose();
      throw e;
    });
    const dir = uploadDir(bucket, key, uploadId);
    const unlockKey = await this.ctx.locker.lock(`upload:${uploadId}`, "write");
    try {
      const digest = await hasher.finish();
      await opts.verify?.({
        size: counted.bytes,
        md5: digest.md5,
        checksums: Object.fromEntries(
          Object.entries(digest.raw).map(([a, v]) => [a, toBase64(v)]),
        ),
      });
      await this.#readUpload(bucket, key, uploadId); // not aborted meanwhile
      const rec: PartFileRecord = {
        number: partNumber,
        size: data.size,
        etag: opts.transform?.etag?.(digest.md5) ?? md5Hex(digest.md5),
        modTimeMs: Date.now(),
        checksums: digest.raw,
        partDir: data.dataDir,
        note: opts.transform?.note ?? "",
      };
      assert(rec.note.length <= PART_NOTE_CHARS_MAX, "A part's note is too long");
      const bytes = encodePartRecord(rec);
      const metaPath = `${dir}/part.${partNumber}.meta`;
      const done = await Promise.all(this.slots.map(async (d, i) => {
        if (d === undefined || !data.alive[i]) return false;
        try {
          let oldDir: string | undefined;
          try {
            oldDir =
              decodePartRecord(await d.readFile(metaPath, METADATA_RECORD_BYTES_MAX)).partDir;
          } catch { /* no earlier part */ }
          await d.rename(`${TMP_DIR}/${data.tmpId}/${data.dataDir}`, `${dir}/${data.dataDir}`);
          await d.writeFile(metaPath, bytes);
          if (oldDir !== undefined && oldDir !== data.dataDir) {
            await d.remove(`${dir}/${oldDir}`).catch(() => {});
          }
          return true;
        } catch {
          return false;
        }
      }));
      const ok = done.filter(Boolean).length;
      if (ok < g.writeQuorum) {
        throw new QuorumLost(`Only ${ok} of ${g.n} drives stored part ${partNumber}`, bucket, key);
      }
      return partToInfo(rec);
    } finally {
      unlockKey();
      await this.#removeTmp(data.tmpId);
    }
  }

  /** The parts a read quorum agrees on, by part number, with the slots that hold each. */
  async #readParts(
    bucket: string,
    key: string,
    up: UploadRecord,
  ): Promise<Map<number, { rec: PartFileRecord; slots: boolean[] }>> {
    const dir = uploadDir(bucket, key, up.uploadId);
    const listings = await Promise.all(
      this.slots.map((d) => d === undefined ? undefined : settle(d.list(dir))),
    );
    const numbers = new Set<number>();
    for (const l of listings) {
      for (const e of l ?? []) {
        const m = /^part\.(\d+)\.meta$/.exec(e.name);
        if (m) numbers.add(Number(m[1]));
      }
    }
    const out = new Map<number, { rec: PartFileRecord; slots: boolean[] }>();
    for (const num of [...numbers].sort((a, b) => a - b)) {
      const results = await this.#readAll(`${dir}/part.${num}.meta`);
      const groups = new Map<string, { rec: PartFileRecord; slots: boolean[] }>();
      results.forEach((r, i) => {
        if (r.state !== "ok") return;
        try {
          const rec = decodePartRecord(r.bytes);
          const id = `${rec.etag}|${rec.partDir}`;
          let g = groups.get(id);
          if (g === undefined) groups.set(id, g = { rec, slots: new Array(this.n).fill(false) });
          g.slots[i] = true;
        } catch (e) {
          if (!(e instanceof CorruptRecord)) throw e;
        }
      });
      for (const g of groups.values()) {
        if (g.slots.filter(Boolean).length >= up.k) {
          out.set(num, g);
          break;
        }
      }
    }
    return out;
  }

  async listParts(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<{ upload: MultipartUploadInfo; parts: PartInfo[] }> {
    const up = await this.#readUpload(bucket, key, uploadId);
    const parts = await this.#readParts(bucket, key, up);
    return { upload: uploadToInfo(up), parts: [...parts.values()].map((p) => partToInfo(p.rec)) };
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    const unlock = await this.ctx.locker.lock(`upload:${uploadId}`, "write");
    try {
      await this.#readUpload(bucket, key, uploadId);
      await this.#removeUpload(bucket, key, uploadId);
    } finally {
      unlock();
    }
  }

  async #removeUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    const dir = uploadDir(bucket, key, uploadId);
    await Promise.all(this.slots.map(async (d) => {
      if (d === undefined) return;
      await d.remove(`${dir}/${UPLOAD_FILE}`).catch(() => {});
      await d.remove(dir, { pruneTo: uploadsRoot(bucket) }).catch(() => {});
    }));
  }

  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    given: CompletePart[],
    opts: CompleteOptions,
  ): Promise<ObjectInfo> {
    const conditions = opts.conditions;
    const unlockKey = await this.ctx.locker.lock(`${bucket}/${key}`, "write");
    const unlockUpload = await this.ctx.locker.lock(`upload:${uploadId}`, "write");
    try {
      const up = await this.#readUpload(bucket, key, uploadId);
      const stored = await this.#readParts(bucket, key, up);
      if (given.length === 0) throw new InvalidPart("No parts given", bucket, key);
      const chosen: Array<{ rec: PartFileRecord; slots: boolean[] }> = [];
      let prev = 0;
      given.forEach((p, idx) => {
        if (p.partNumber <= prev) {
          throw new InvalidPartOrder(`Part ${p.partNumber} is out of order`, bucket, key);
        }
        prev = p.partNumber;
        const s = stored.get(p.partNumber);
        if (s === undefined || s.rec.etag !== unquoteEtag(p.etag)) {
          throw new InvalidPart(`Part ${p.partNumber} not found or its ETag differs`, bucket, key);
        }
        for (const [alg, value] of Object.entries(p.checksums ?? {})) {
          const have = s.rec.checksums[alg as ChecksumAlgorithm];
          if (value !== undefined && (have === undefined || toBase64(have) !== value)) {
            throw new InvalidPart(`Part ${p.partNumber} has another ${alg} checksum`, bucket, key);
          }
        }
        if (idx < given.length - 1 && s.rec.size < PART_SIZE_BYTES_MIN) {
          throw new PartTooSmall(
            `Part ${p.partNumber} is ${s.rec.size} bytes, below the ${PART_SIZE_BYTES_MIN} minimum`,
            bucket,
            key,
          );
        }
        chosen.push(s);
      });
      const md5s = concatBytes(...chosen.map((c) => hexToBytes(c.rec.etag)));
      const md5 = await createHasher("MD5");
      md5.update(md5s);
      const etag = `${md5Hex(md5.digest())}-${chosen.length}`;
      const checksums: RawChecksums = {};
      let checksumType = up.checksumType;
      if (up.checksumAlg !== undefined) {
        const alg = up.checksumAlg;
        const digests = chosen.map((c) => c.rec.checksums[alg]);
        if (digests.some((x) => x === undefined)) {
          throw new InvalidPart(`A part lacks its ${alg} checksum`, bucket, key);
        }
        if (
          checksumType === "FULL_OBJECT" &&
          (alg === "CRC32" || alg === "CRC32C" || alg === "CRC64NVME")
        ) {
          let acc = digests[0]!;
          for (let i = 1; i < digests.length; i++) {
            acc = combineCrc(alg, acc, digests[i]!, chosen[i]!.rec.size);
          }
          checksums[alg] = acc;
        } else {
          checksumType = "COMPOSITE";
          const h = await createHasher(alg);
          h.update(concatBytes(...(digests as Uint8Array[])));
          checksums[alg] = h.digest();
        }
      }
      opts.verify?.(
        Object.fromEntries(Object.entries(checksums).map(([a, v]) => [a, toBase64(v)])),
        up.checksumAlg !== undefined ? checksumType : undefined,
        chosen.length,
      );
      const sealed = await opts.seal?.(
        chosen.map((c) => ({ partNumber: c.rec.number, size: c.rec.size, note: c.rec.note })),
      );
      const uploaded = sealed === undefined ? undefined : pairsToMetadata(up.metadata);
      const g = geometry(this.n, up.m);
      const dataDir = crypto.randomUUID();
      const dir = uploadDir(bucket, key, uploadId);
      const now = Date.now();
      const size = chosen.reduce((n, c) => n + c.rec.size, 0);
      if (size > OBJECT_SIZE_BYTES_MAX) {
        throw new EntityTooLarge(
          `The parts add up to ${size} bytes, above ${OBJECT_SIZE_BYTES_MAX}`,
          bucket,
          key,
        );
      }
      const parts: PartRecord[] = chosen.map((c) => ({
        number: c.rec.number,
        size: c.rec.size,
        etag: c.rec.etag,
        modTimeMs: c.rec.modTimeMs,
        checksums: c.rec.checksums,
      }));
      const alive = this.slots.map((d, i) => d !== undefined && chosen.every((c) => c.slots[i]));
      const base: VersionRecord = {
        versionId: "null",
        modTimeMs: now,
        dataDir,
        size,
        etag,
        storageClass: up.storageClass,
        checksums,
        erasure: {
          k: up.k,
          m: up.m,
          blockBytes: ERASURE_BLOCK_BYTES,
          shardIndex: 1,
          distribution: up.distribution,
          bitrot: BITROT_HIGHWAY256,
        },
        parts,
        metadata: uploaded === undefined
          ? up.metadata
          : metadataToPairs({ ...uploaded, internal: { ...uploaded.internal, ...sealed } }),
        tags: up.tags,
      };
      if (checksumType !== undefined) base.checksumType = checksumType;
      const partPaths = (kp: KeyPath) =>
        chosen.map((c) =>
          [
            `${dir}/${c.rec.partDir}/part.${c.rec.number}`,
            `${kp.dir}/${dataDirName(dataDir)}/part.${c.rec.number}`,
          ] as const
        );
      const markerId = crypto.randomUUID();
      const v = await this.#commit(bucket, key, g, (i) => ({
        ...base,
        erasure: { ...base.erasure, shardIndex: up.distribution[i]! },
      }), {
        alive,
        conditions,
        locked: true,
        place: async (d, _i, kp) => {
          await writeCommitMarker(d, markerId, kp.dir, dataDir);
          for (const [from, to] of partPaths(kp)) await d.rename(from, to);
        },
        unplace: async (d, _i, kp) => {
          for (const [from, to] of partPaths(kp)) await d.rename(to, from).catch(() => {});
          await d.remove(`${kp.dir}/${dataDirName(dataDir)}`).catch(() => {});
        },
      });
      await this.#removeUpload(bucket, key, uploadId);
      await this.#removeTmp(markerId);
      return versionToInfo(bucket, key, v);
    } finally {
      unlockUpload();
      unlockKey();
    }
  }

  /** Every upload of a bucket found on the drives of this set (read from any copy). */
  async listUploads(bucket: string): Promise<UploadRecord[]> {
    const root = uploadsRoot(bucket);
    const found = new Map<string, UploadRecord>();
    for (const d of this.slots) {
      if (d === undefined) continue;
      const hashes = await settle(d.list(root));
      if (hashes === undefined) continue;
      for (const h of hashes) {
        const ids = await settle(d.list(`${root}/${h.name}`));
        for (const id of ids ?? []) {
          if (found.has(id.name)) continue;
          try {
            const rec = decodeUploadRecord(
              await d.readFile(
                `${root}/${h.name}/${id.name}/${UPLOAD_FILE}`,
                METADATA_RECORD_BYTES_MAX,
              ),
            );
            found.set(id.name, rec);
          } catch { /* missing or corrupt on this drive */ }
        }
      }
    }
    // Confirm each by quorum (an aborted upload may linger on a drive that was offline).
    const out: UploadRecord[] = [];
    for (const rec of found.values()) {
      const ok = await this.#readUpload(bucket, rec.key, rec.uploadId).then(() => true, (e) => {
        if (e instanceof UploadNotFound) return false;
        throw e;
      });
      if (ok) out.push(rec);
    }
    return out;
  }
}

/** `.shale.sys/tmp/<id>/commit.target`: where a data dir is about to be moved (FORMAT.md). */
export const COMMIT_MARKER = "commit.target";

function writeCommitMarker(d: Drive, tmpId: string, dir: string, dataDir: string): Promise<void> {
  return d.writeFile(`${TMP_DIR}/${tmpId}/${COMMIT_MARKER}`, ENC.encode(`${dir}\n${dataDir}`));
}

export function uploadToInfo(u: UploadRecord): MultipartUploadInfo {
  const info: MultipartUploadInfo = {
    bucket: u.bucket,
    key: u.key,
    uploadId: u.uploadId,
    initiated: new Date(u.initiatedMs),
    storageClass: u.storageClass,
    metadata: pairsToMetadata(u.metadata),
  };
  if (u.checksumAlg !== undefined) info.checksumAlgorithm = u.checksumAlg;
  if (u.checksumType !== undefined) info.checksumType = u.checksumType;
  else if (u.checksumAlg !== undefined) info.checksumType = "COMPOSITE";
  return info;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Streams any range of one pinned version; holds the key's read lock until done or closed. */
class SetObjectReader implements ObjectReader {
  readonly info: ObjectInfo;
  #released = false;
  #streams = 0;
  constructor(
    readonly set: ErasureSet,
    readonly bucket: string,
    readonly key: string,
    readonly resolved: Resolved,
    readonly unlock: () => void,
  ) {
    this.info = versionToInfo(bucket, key, resolved.version);
  }

  close(): void {
    if (this.#streams === 0) this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.unlock();
  }

  stream(offset: number, length: number): ReadableStream<Uint8Array> {
    const v = this.resolved.version;
    assert(offset >= 0 && length >= 0 && offset + length <= v.size, "Range outside the object");
    const parts = v.parts.length > 0
      ? v.parts
      : [{ number: 1, size: v.size, etag: v.etag, modTimeMs: v.modTimeMs, checksums: {} }];
    // Every (part, block, slice) the range touches, produced lazily.
    const { k, m, blockBytes } = v.erasure;
    const end = offset + length;
    function* stepsOf() {
      let partStart = 0;
      for (let pi = 0; pi < parts.length; pi++) {
        const pEnd = partStart + parts[pi]!.size;
        if (pEnd > offset && partStart < end) {
          const from = Math.max(offset, partStart) - partStart;
          const to = Math.min(end, pEnd) - partStart;
          for (let b = Math.floor(from / blockBytes); b * blockBytes < to; b++) {
            const bs = b * blockBytes;
            yield {
              part: pi,
              block: b,
              from: Math.max(from, bs) - bs,
              to: Math.min(to, bs + blockBytes) - bs,
            };
          }
        }
        partStart = pEnd;
      }
    }
    const steps = stepsOf();
    this.#streams++;
    /** Open shard files per part index; a part's files close once the stream moves past it. */
    const readers = new Map<number, FileReader[]>();
    const closeBefore = (part: number) => {
      for (const [pi, list] of readers) {
        if (pi >= part) continue;
        for (const r of list) r.close();
        readers.delete(pi);
      }
      for (const pi of decoders.keys()) if (pi < part) decoders.delete(pi);
    };
    const decoders = new Map<number, PartDecoder>();
    const decoderFor = (pi: number) => {
      let dec = decoders.get(pi);
      if (dec === undefined) {
        const p = parts[pi]!;
        dec = new PartDecoder({
          k,
          m,
          layout: partLayout(p.size, blockBytes, k),
          sources: this.set.sourcesFor(
            this.bucket,
            this.key,
            this.resolved,
            p.number,
            readers.get(pi) ?? (readers.set(pi, []), readers.get(pi)!),
          ),
          onShardBad: (shard, block, reason) => {
            logger.warn("Shard unreadable, reconstructed from the others", {
              bucket: this.bucket,
              key: this.key,
              part: p.number,
              shard: shard + 1,
              block,
              reason,
            });
            this.set.ctx.damaged?.(this.bucket, this.key);
          },
        });
        decoders.set(pi, dec);
      }
      return dec;
    };
    let exhausted = false;
    const inflight: Array<{ part: number; data: Promise<Uint8Array> }> = [];
    const fill = () => {
      while (inflight.length <= READ_AHEAD_BLOCKS_MAX && !exhausted) {
        const it = steps.next();
        if (it.done) {
          exhausted = true;
          break;
        }
        const s = it.value;
        const p = decoderFor(s.part).readBlock(s.block).then((b) => b.subarray(s.from, s.to));
        p.catch(() => {});
        inflight.push({ part: s.part, data: p });
      }
    };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      closeBefore(Number.POSITIVE_INFINITY);
      this.#streams--;
      // Another stream of this reader (SSE reads a part's IV beside its data) keeps the lock.
      if (this.#streams === 0) this.#release();
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        fill();
        const next = inflight.shift();
        if (next === undefined) {
          finish();
          controller.close();
          return;
        }
        // Steps run in order: no block of an earlier part is in flight any more.
        closeBefore(next.part);
        try {
          controller.enqueue(await next.data);
        } catch (e) {
          finish();
          controller.error(translate(e, this.bucket, this.key));
          return;
        }
        fill();
        if (inflight.length === 0 && exhausted) {
          finish();
          controller.close();
        }
      },
      cancel: () => finish(),
    }, { highWaterMark: 0 });
  }
}
