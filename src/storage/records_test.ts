import assert from "node:assert/strict";
import {
  CorruptRecord,
  decodeBucketRecord,
  decodeFormat,
  decodeObjectRecord,
  decodePartRecord,
  decodeUploadRecord,
  encodeBucketRecord,
  encodeFormat,
  encodeObjectRecord,
  encodePartRecord,
  encodeUploadRecord,
  type ObjectRecord,
} from "./records.ts";

const SAMPLE: ObjectRecord = {
  versions: [{
    versionId: "null",
    modTimeMs: 1_764_000_000_123,
    dataDir: "0b7f5d6e-1c2a-4e0f-9a55-0e4b0c8d1f23",
    size: 5 * 1024 * 1024 + 1,
    etag: "9e107d9d372bb6826bd81d3542a419d6-2",
    storageClass: "REDUCED_REDUNDANCY",
    checksumType: "COMPOSITE",
    checksums: { CRC32C: new Uint8Array([1, 2, 3, 4]), SHA256: new Uint8Array(32).fill(9) },
    erasure: {
      k: 4,
      m: 2,
      blockBytes: 1 << 20,
      shardIndex: 3,
      distribution: [3, 4, 5, 6, 1, 2],
      bitrot: 1,
    },
    parts: [
      { number: 1, size: 5 << 20, etag: "aa", modTimeMs: 5, checksums: {} },
      { number: 3, size: 1, etag: "bb", modTimeMs: 6, checksums: { CRC32: new Uint8Array(4) } },
    ],
    metadata: [["content-type", "text/plain; charset=utf-8"], ["x-amz-meta-ünï", "välue"]],
    tags: [["k", "v"], ["empty", ""]],
    inline: new Uint8Array([0x53, 0x48, 0x4c, 0x53, 0, 1, 0, 0]),
  }],
};

Deno.test("an object metadata record round-trips every field", () => {
  assert.deepEqual(decodeObjectRecord(encodeObjectRecord(SAMPLE)), SAMPLE);
  const plain: ObjectRecord = {
    versions: [{ ...SAMPLE.versions[0]!, parts: [], checksums: {}, tags: [], metadata: [] }],
  };
  delete plain.versions[0]!.inline;
  delete plain.versions[0]!.checksumType;
  assert.deepEqual(decodeObjectRecord(encodeObjectRecord(plain)), plain);
});

Deno.test("a flipped bit anywhere in a metadata record is detected", () => {
  const bytes = encodeObjectRecord(SAMPLE);
  for (let i = 0; i < bytes.length; i++) {
    for (const bit of [0, 7]) {
      const bad = bytes.slice();
      bad[i] = bad[i]! ^ (1 << bit);
      assert.throws(() => decodeObjectRecord(bad), CorruptRecord, `byte ${i} bit ${bit}`);
    }
  }
});

Deno.test("a truncated or extended metadata record is detected", () => {
  const bytes = encodeObjectRecord(SAMPLE);
  for (const n of [0, 10, 43, bytes.length - 1]) {
    assert.throws(() => decodeObjectRecord(bytes.subarray(0, n)), CorruptRecord);
  }
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.throws(() => decodeObjectRecord(longer), CorruptRecord);
});

Deno.test("a record of another kind or a newer version is refused", () => {
  const bucket = encodeBucketRecord({ createdMs: 1, configs: [] });
  assert.throws(() => decodeObjectRecord(bucket), /magic/);
  const v2 = encodeObjectRecord(SAMPLE);
  v2[5] = 2;
  assert.throws(() => decodeObjectRecord(v2), /version/);
});

Deno.test("format, bucket, upload and part records round-trip", () => {
  const f = { deploymentId: "d", sets: [["a", "b"], ["c", "e"]], thisDriveId: "c" };
  assert.deepEqual(decodeFormat(encodeFormat(f)), f);
  const b = {
    createdMs: 42,
    configs: [["cors", "<CORSConfiguration/>"]] as Array<[string, string]>,
  };
  assert.deepEqual(decodeBucketRecord(encodeBucketRecord(b)), b);
  const u = {
    bucket: "b",
    key: "k/x",
    uploadId: "u",
    initiatedMs: 7,
    storageClass: "STANDARD" as const,
    checksumAlg: "CRC64NVME" as const,
    checksumType: "FULL_OBJECT" as const,
    k: 2,
    m: 2,
    distribution: [2, 3, 4, 1],
    metadata: [["content-type", "x/y"]] as Array<[string, string]>,
    tags: [],
  };
  assert.deepEqual(decodeUploadRecord(encodeUploadRecord(u)), u);
  const p = { number: 9, size: 10, etag: "e", modTimeMs: 3, checksums: {}, partDir: "pd" };
  assert.deepEqual(decodePartRecord(encodePartRecord({ ...p, note: "iv" })), { ...p, note: "iv" });
  assert.deepEqual(decodePartRecord(encodePartRecord({ ...p, note: "" })), { ...p, note: "" });
});
