/**
 * Encoders and decoders for every record in src/storage/FORMAT.md. Decoders throw CorruptRecord
 * for anything they do not fully understand; callers treat such a record as missing.
 */
import { ByteReader, ByteWriter, CorruptRecord, openRecord, sealRecord } from "./_codec.ts";

export { CorruptRecord } from "./_codec.ts";

export type RecordChecksumAlg = "CRC32" | "CRC32C" | "SHA1" | "SHA256" | "CRC64NVME";
/** Raw big-endian digests by algorithm. */
export type RawChecksums = Partial<Record<RecordChecksumAlg, Uint8Array>>;

const ALG_CODES: Record<RecordChecksumAlg, number> = {
  CRC32: 1,
  CRC32C: 2,
  SHA1: 3,
  SHA256: 4,
  CRC64NVME: 5,
};
const ALG_BY_CODE = new Map(Object.entries(ALG_CODES).map(([k, v]) => [v, k as RecordChecksumAlg]));

export interface ErasureInfo {
  k: number;
  m: number;
  blockBytes: number;
  /** 1-based shard index this drive holds. */
  shardIndex: number;
  /** distribution[i]: 1-based shard index held by drive i of the set. */
  distribution: number[];
  /** 1 = HighwayHash-256 framed shard files. */
  bitrot: number;
}

export interface PartRecord {
  number: number;
  size: number;
  etag: string;
  modTimeMs: number;
  checksums: RawChecksums;
}

export interface VersionRecord {
  versionId: string;
  modTimeMs: number;
  /** Empty for inline objects. */
  dataDir: string;
  size: number;
  etag: string;
  storageClass: "STANDARD" | "REDUCED_REDUNDANCY";
  checksumType?: "FULL_OBJECT" | "COMPOSITE";
  checksums: RawChecksums;
  erasure: ErasureInfo;
  parts: PartRecord[];
  /** Lower-case header names; user metadata as x-amz-meta-<name>. */
  metadata: Array<[string, string]>;
  tags: Array<[string, string]>;
  /** This drive's whole framed shard file, for inline objects. */
  inline?: Uint8Array;
}

export interface ObjectRecord {
  versions: VersionRecord[];
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

function writeChecksums(w: ByteWriter, c: RawChecksums): void {
  const entries = Object.entries(c) as Array<[RecordChecksumAlg, Uint8Array]>;
  w.u8(entries.length);
  for (const [alg, digest] of entries) w.u8(ALG_CODES[alg]).bytes(digest);
}
function readChecksums(r: ByteReader): RawChecksums {
  const out: RawChecksums = {};
  const n = r.count(r.u8(), 5);
  for (let i = 0; i < n; i++) {
    const alg = ALG_BY_CODE.get(r.u8());
    if (alg === undefined) throw new CorruptRecord("Unknown checksum algorithm");
    out[alg] = r.bytes();
  }
  return out;
}
function writePairs(w: ByteWriter, pairs: Array<[string, string]>): void {
  w.u16(pairs.length);
  for (const [a, b] of pairs) w.str(a).str(b);
}
function readPairs(r: ByteReader): Array<[string, string]> {
  const n = r.count(r.u16(), 8);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < n; i++) out.push([r.str(), r.str()]);
  return out;
}
function writeDistribution(w: ByteWriter, d: number[]): void {
  w.u8(d.length);
  for (const x of d) w.u8(x);
}
function readDistribution(r: ByteReader): number[] {
  const n = r.u8();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u8());
  return out;
}
function storageClassCode(s: VersionRecord["storageClass"]): number {
  return s === "REDUCED_REDUNDANCY" ? 1 : 0;
}
function storageClassOf(c: number): VersionRecord["storageClass"] {
  if (c === 0) return "STANDARD";
  if (c === 1) return "REDUCED_REDUNDANCY";
  throw new CorruptRecord(`Unknown storage class ${c}`);
}
function checksumTypeCode(t: VersionRecord["checksumType"]): number {
  return t === undefined ? 0 : t === "FULL_OBJECT" ? 1 : 2;
}
function checksumTypeOf(c: number): VersionRecord["checksumType"] {
  if (c === 0) return undefined;
  if (c === 1) return "FULL_OBJECT";
  if (c === 2) return "COMPOSITE";
  throw new CorruptRecord(`Unknown checksum type ${c}`);
}

// ---------------------------------------------------------------------------------------------
// Object metadata record (SHLM)

export function encodeObjectRecord(rec: ObjectRecord): Uint8Array {
  const w = new ByteWriter();
  w.u32(rec.versions.length);
  for (const v of rec.versions) {
    w.str(v.versionId).u64(v.modTimeMs).str(v.dataDir).u64(v.size).str(v.etag);
    w.u8(storageClassCode(v.storageClass)).u8(checksumTypeCode(v.checksumType));
    writeChecksums(w, v.checksums);
    const e = v.erasure;
    w.u8(e.k).u8(e.m).u32(e.blockBytes).u8(e.shardIndex);
    writeDistribution(w, e.distribution);
    w.u8(e.bitrot);
    w.u32(v.parts.length);
    for (const p of v.parts) {
      w.u32(p.number).u64(p.size).str(p.etag).u64(p.modTimeMs);
      writeChecksums(w, p.checksums);
    }
    writePairs(w, v.metadata);
    writePairs(w, v.tags);
    if (v.inline === undefined) w.u8(0);
    else w.u8(1).bytes(v.inline);
  }
  return sealRecord("SHLM", 1, w.finish());
}

export function decodeObjectRecord(bytes: Uint8Array): ObjectRecord {
  const { payload } = openRecord("SHLM", [1], bytes);
  const r = new ByteReader(payload);
  const versions: VersionRecord[] = [];
  const n = r.count(r.u32(), 40);
  for (let i = 0; i < n; i++) {
    const versionId = r.str();
    const modTimeMs = r.u64();
    const dataDir = r.str();
    const size = r.u64();
    const etag = r.str();
    const storageClass = storageClassOf(r.u8());
    const checksumType = checksumTypeOf(r.u8());
    const checksums = readChecksums(r);
    const k = r.u8(), m = r.u8(), blockBytes = r.u32(), shardIndex = r.u8();
    const distribution = readDistribution(r);
    const bitrot = r.u8();
    if (k < 1 || distribution.length !== k + m || shardIndex < 1 || shardIndex > k + m) {
      throw new CorruptRecord("Erasure geometry is inconsistent");
    }
    const parts: PartRecord[] = [];
    const np = r.count(r.u32(), 24);
    for (let j = 0; j < np; j++) {
      parts.push({
        number: r.u32(),
        size: r.u64(),
        etag: r.str(),
        modTimeMs: r.u64(),
        checksums: readChecksums(r),
      });
    }
    const metadata = readPairs(r);
    const tags = readPairs(r);
    const hasInline = r.u8();
    if (hasInline > 1) throw new CorruptRecord("Bad inline flag");
    const v: VersionRecord = {
      versionId,
      modTimeMs,
      dataDir,
      size,
      etag,
      storageClass,
      checksums,
      erasure: { k, m, blockBytes, shardIndex, distribution, bitrot },
      parts,
      metadata,
      tags,
    };
    if (checksumType !== undefined) v.checksumType = checksumType;
    if (hasInline === 1) v.inline = r.bytes();
    versions.push(v);
  }
  r.end();
  return { versions };
}

// ---------------------------------------------------------------------------------------------
// Format file (SHLF)

export interface FormatRecord {
  deploymentId: string;
  /** sets[s][i]: drive id at position i of set s. */
  sets: string[][];
  thisDriveId: string;
}

export function encodeFormat(f: FormatRecord): Uint8Array {
  const w = new ByteWriter();
  const setDrives = f.sets[0]?.length ?? 0;
  w.str(f.deploymentId).u16(f.sets.length).u16(setDrives);
  for (const set of f.sets) {
    if (set.length !== setDrives) throw new RangeError("Sets must all have the same size");
    for (const id of set) w.str(id);
  }
  w.str(f.thisDriveId);
  return sealRecord("SHLF", 1, w.finish());
}

export function decodeFormat(bytes: Uint8Array): FormatRecord {
  const { payload } = openRecord("SHLF", [1], bytes);
  const r = new ByteReader(payload);
  const deploymentId = r.str();
  const setCount = r.u16();
  const setDrives = r.u16();
  r.count(setCount * setDrives, 4);
  const sets: string[][] = [];
  for (let s = 0; s < setCount; s++) {
    const set: string[] = [];
    for (let i = 0; i < setDrives; i++) set.push(r.str());
    sets.push(set);
  }
  const thisDriveId = r.str();
  r.end();
  return { deploymentId, sets, thisDriveId };
}

// ---------------------------------------------------------------------------------------------
// Bucket record (SHLB)

export interface BucketRecord {
  createdMs: number;
  configs: Array<[string, string]>;
}

export function encodeBucketRecord(b: BucketRecord): Uint8Array {
  const w = new ByteWriter();
  w.u64(b.createdMs);
  writePairs(w, b.configs);
  return sealRecord("SHLB", 1, w.finish());
}

export function decodeBucketRecord(bytes: Uint8Array): BucketRecord {
  const r = new ByteReader(openRecord("SHLB", [1], bytes).payload);
  const out = { createdMs: r.u64(), configs: readPairs(r) };
  r.end();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Multipart upload record (SHLU) and part record (SHLP)

export interface UploadRecord {
  bucket: string;
  key: string;
  uploadId: string;
  initiatedMs: number;
  storageClass: "STANDARD" | "REDUCED_REDUNDANCY";
  checksumAlg?: RecordChecksumAlg;
  checksumType?: "FULL_OBJECT" | "COMPOSITE";
  k: number;
  m: number;
  distribution: number[];
  metadata: Array<[string, string]>;
  tags: Array<[string, string]>;
}

export function encodeUploadRecord(u: UploadRecord): Uint8Array {
  const w = new ByteWriter();
  w.str(u.bucket).str(u.key).str(u.uploadId).u64(u.initiatedMs);
  w.u8(storageClassCode(u.storageClass));
  w.u8(u.checksumAlg === undefined ? 0 : ALG_CODES[u.checksumAlg]);
  w.u8(checksumTypeCode(u.checksumType));
  w.u8(u.k).u8(u.m);
  writeDistribution(w, u.distribution);
  writePairs(w, u.metadata);
  writePairs(w, u.tags);
  return sealRecord("SHLU", 1, w.finish());
}

export function decodeUploadRecord(bytes: Uint8Array): UploadRecord {
  const r = new ByteReader(openRecord("SHLU", [1], bytes).payload);
  const bucket = r.str(), key = r.str(), uploadId = r.str(), initiatedMs = r.u64();
  const storageClass = storageClassOf(r.u8());
  const algCode = r.u8();
  const checksumType = checksumTypeOf(r.u8());
  const k = r.u8(), m = r.u8();
  const distribution = readDistribution(r);
  const metadata = readPairs(r);
  const tags = readPairs(r);
  r.end();
  if (distribution.length !== k + m || k < 1) throw new CorruptRecord("Bad upload geometry");
  const u: UploadRecord = {
    bucket,
    key,
    uploadId,
    initiatedMs,
    storageClass,
    k,
    m,
    distribution,
    metadata,
    tags,
  };
  if (algCode !== 0) {
    const alg = ALG_BY_CODE.get(algCode);
    if (alg === undefined) throw new CorruptRecord("Unknown checksum algorithm");
    u.checksumAlg = alg;
  }
  if (checksumType !== undefined) u.checksumType = checksumType;
  return u;
}

export interface PartFileRecord extends PartRecord {
  partDir: string;
  /**
   * What the writer of the part asked to keep with it until completion (BodyTransform.note; the
   * SSE layer's stream IV), "" for none. Version 1 records have none.
   */
  note: string;
}

export function encodePartRecord(p: PartFileRecord): Uint8Array {
  const w = new ByteWriter();
  w.u32(p.number).u64(p.size).str(p.etag).u64(p.modTimeMs);
  writeChecksums(w, p.checksums);
  w.str(p.partDir);
  w.str(p.note);
  return sealRecord("SHLP", 2, w.finish());
}

export function decodePartRecord(bytes: Uint8Array): PartFileRecord {
  const { version, payload } = openRecord("SHLP", [1, 2], bytes);
  const r = new ByteReader(payload);
  const out: PartFileRecord = {
    number: r.u32(),
    size: r.u64(),
    etag: r.str(),
    modTimeMs: r.u64(),
    checksums: readChecksums(r),
    partDir: r.str(),
    note: version >= 2 ? r.str() : "",
  };
  r.end();
  return out;
}
