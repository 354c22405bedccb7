/**
 * Erasure-set geometry as MinIO computes it, so its users can predict it (src/erasure/FORMAT.md):
 * set size, default parity, quorums, the set a key lives in and how shards spread over a set.
 */
import { ERASURE_SET_DRIVES_MAX, ERASURE_SET_DRIVES_MIN } from "../config/limits.ts";
import { assert } from "../util/assert.ts";
import { createHasherSync } from "../util/checksums.ts";

/** The largest divisor of `driveCount` in 2..16; 1 for a single drive; undefined if none. */
export function setSizeFor(driveCount: number): number | undefined {
  if (driveCount === 1) return 1;
  for (let n = ERASURE_SET_DRIVES_MAX; n >= ERASURE_SET_DRIVES_MIN; n--) {
    if (driveCount % n === 0) return n;
  }
  return undefined;
}

/** MinIO's default standard-class parity for a set of `setSize` drives. */
export function defaultParity(setSize: number): number {
  if (setSize <= 1) return 0;
  if (setSize <= 3) return 1;
  if (setSize <= 5) return 2;
  if (setSize <= 7) return 3;
  return 4;
}

export interface Geometry {
  /** Drives in the set (k + m). */
  n: number;
  k: number;
  m: number;
  readQuorum: number;
  writeQuorum: number;
}

export function geometry(n: number, m: number): Geometry {
  assert(Number.isInteger(n) && n >= 1, `Set size must be a positive integer, got ${n}`);
  assert(Number.isInteger(m) && m >= 0 && m <= n / 2, `Parity ${m} is invalid for ${n} drives`);
  const k = n - m;
  return { n, k, m, readQuorum: k, writeQuorum: k === m ? k + 1 : k };
}

const ENCODER = new TextEncoder();

function sha256(s: string): Uint8Array {
  const h = createHasherSync("SHA256");
  h.update(ENCODER.encode(s));
  return h.digest();
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** The set a key lives in: stable for a deployment, spread evenly. */
export function setIndexFor(
  deploymentId: string,
  bucket: string,
  key: string,
  setCount: number,
): number {
  if (setCount === 1) return 0;
  return u32(sha256(`${deploymentId}/${bucket}/${key}`), 0) % setCount;
}

/** distribution[i]: the 1-based shard index that drive i of the set holds for this key. */
export function distributionFor(bucket: string, key: string, n: number): number[] {
  const start = u32(sha256(`${bucket}/${key}`), 4) % n;
  return Array.from({ length: n }, (_, i) => ((i - start + n) % n) + 1);
}
