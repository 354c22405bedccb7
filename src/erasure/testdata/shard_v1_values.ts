/**
 * What the frozen shard-file fixture in `shard_v1/` holds: one object of `SIZE` bytes (two erasure
 * blocks: one full 1 MiB block and a short one) stored 4+2 on a set of 6 drives, as version 1
 * wrote it (`gen_shard_v1.ts`). `shard_v1/drive<i>.meta` is drive i's metadata record (SHLM v1)
 * and `shard_v1/drive<i>.part.1` its shard file (SHLS v1). The files are never regenerated;
 * `shard_fixtures_test.ts` reads them with today's decoders.
 */
import type { VersionRecord } from "../../storage/records.ts";

export const BUCKET = "fixtures";
export const KEY = "shard/v1.txt";
export const SIZE = 1024 * 1024 + 1234;
/** SHA-256 (hex) of `input()`: pins the input as well as the files. */
export const INPUT_SHA256 = "cf2608e8e02933c0b713bd3237539772a602012c68560071b7d5cd3be104280a";
/** distributionFor(BUCKET, KEY, 6) when the files were written: drive i holds shard [i]. */
export const DISTRIBUTION = [6, 1, 2, 3, 4, 5];

/**
 * The object's bytes: numbered text lines, so every shard differs from every other (a shard in
 * the wrong place cannot pass for the right one) and the files compress in git.
 */
export function input(): Uint8Array {
  const enc = new TextEncoder();
  const out = new Uint8Array(SIZE);
  for (let at = 0, line = 0; at < SIZE; line++) {
    const text = `Shale shard file fixture, version 1, line ${String(line).padStart(6, "0")}\n`;
    const b = enc.encode(text);
    out.set(b.subarray(0, Math.min(b.length, SIZE - at)), at);
    at += b.length;
  }
  return out;
}

/** Drive `i`'s (0-based) version record. */
export function versionFor(i: number): VersionRecord {
  return {
    versionId: "null",
    modTimeMs: 1_764_100_000_000,
    dataDir: "5d0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b",
    size: SIZE,
    etag: "af25703e6cfc543baf6237bb724fa5ac",
    storageClass: "STANDARD",
    checksums: {},
    erasure: {
      k: 4,
      m: 2,
      blockBytes: 1024 * 1024,
      shardIndex: DISTRIBUTION[i]!,
      distribution: DISTRIBUTION,
      bitrot: 1,
    },
    parts: [{
      number: 1,
      size: SIZE,
      etag: "af25703e6cfc543baf6237bb724fa5ac",
      modTimeMs: 1_764_100_000_000,
      checksums: {},
    }],
    metadata: [["content-type", "text/plain"]],
    tags: [],
  };
}
