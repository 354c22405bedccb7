/**
 * Shard-file framing (src/erasure/FORMAT.md): an 8-byte header, then per erasure block the
 * HighwayHash-256 of the shard followed by the shard.
 */
import { highwayHash256 } from "../wasm/mod.ts";

/** MinIO's magicHighwayHash256Key: HighwayHash-256 of the first 100 decimals of pi, zero key. */
export const BITROT_KEY = new Uint8Array([
  0x4b,
  0xe7,
  0x34,
  0xfa,
  0x8e,
  0x23,
  0x8a,
  0xcd,
  0x26,
  0x3e,
  0x83,
  0xe6,
  0xbb,
  0x96,
  0x85,
  0x52,
  0x04,
  0x0f,
  0x93,
  0x5d,
  0xa3,
  0x9f,
  0x44,
  0x14,
  0x97,
  0xe0,
  0x9d,
  0x13,
  0x22,
  0xde,
  0x36,
  0xa0,
]);
/** Bitrot algorithm id stored in metadata records. */
export const BITROT_HIGHWAY256 = 1;
export const SHARD_HEADER = new Uint8Array([0x53, 0x48, 0x4c, 0x53, 0, 1, 0, 0]); // "SHLS" v1
export const SHARD_HEADER_BYTES = 8;
export const HASH_BYTES = 32;

export function hashShard(shard: Uint8Array): Uint8Array {
  return highwayHash256(BITROT_KEY, shard);
}

export function checkShardHeader(b: Uint8Array): boolean {
  if (b.length < SHARD_HEADER_BYTES) return false;
  for (let i = 0; i < SHARD_HEADER_BYTES; i++) if (b[i] !== SHARD_HEADER[i]) return false;
  return true;
}

/** The shard file version this build writes; it reads this one only (the first). */
export const SHARD_FILE_VERSION = 1;

/**
 * Why a shard file's header is not one this build reads (for messages); undefined when it is.
 * An unknown version is told apart from damage: it is what a newer Shale would have written.
 */
export function shardHeaderProblem(b: Uint8Array): string | undefined {
  if (checkShardHeader(b)) return undefined;
  if (b.length < SHARD_HEADER_BYTES) return `Shard file header is ${b.length} bytes, not 8`;
  for (let i = 0; i < 4; i++) {
    if (b[i] !== SHARD_HEADER[i]) return `Shard file does not start with "SHLS"`;
  }
  const version = shardHeaderVersion(b);
  if (version !== SHARD_FILE_VERSION) {
    return `Shard file version "${version}" is unknown (this build reads version ${SHARD_FILE_VERSION})`;
  }
  return `Shard file header's reserved bytes are not 0`;
}

/** The version field of a shard file header (bytes 4-5, big-endian). */
export function shardHeaderVersion(b: Uint8Array): number {
  return (b[4]! << 8) | b[5]!;
}

/** True when the frame is `hash(32) shard` with a matching hash. */
export function frameIsValid(frame: Uint8Array, shardBytes: number): boolean {
  if (frame.length !== HASH_BYTES + shardBytes) return false;
  return shardMatches(frame.subarray(0, HASH_BYTES), frame.subarray(HASH_BYTES));
}

/** True when `hash` (32 bytes) is the shard's HighwayHash-256. */
export function shardMatches(hash: Uint8Array, shard: Uint8Array): boolean {
  const want = hashShard(shard);
  for (let i = 0; i < HASH_BYTES; i++) if (hash[i] !== want[i]) return false;
  return true;
}

/** Block layout of one part. */
export interface PartLayout {
  size: number;
  blockBytes: number;
  k: number;
  blocks: number;
  /** Shard bytes of every block but the last. */
  fullShardBytes: number;
}

export function partLayout(size: number, blockBytes: number, k: number): PartLayout {
  return {
    size,
    blockBytes,
    k,
    blocks: Math.ceil(size / blockBytes),
    fullShardBytes: Math.ceil(Math.min(size, blockBytes) / k),
  };
}

/** Data bytes in block `b`. */
export function blockDataBytes(l: PartLayout, b: number): number {
  return Math.min(l.blockBytes, l.size - b * l.blockBytes);
}

export function blockShardBytes(l: PartLayout, b: number): number {
  return Math.ceil(blockDataBytes(l, b) / l.k);
}

/** Offset of block b's frame in the shard file. */
export function frameOffset(l: PartLayout, b: number): number {
  return SHARD_HEADER_BYTES + b * (HASH_BYTES + l.fullShardBytes);
}

export function shardFileBytes(l: PartLayout): number {
  if (l.blocks === 0) return SHARD_HEADER_BYTES;
  return frameOffset(l, l.blocks - 1) + HASH_BYTES + blockShardBytes(l, l.blocks - 1);
}
