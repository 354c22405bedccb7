/**
 * The values the version-1 fixtures in this folder hold. `gen_v1.ts` wrote the `.bin` files from
 * them with the encoders of the day (format version 1 of every record); the files are frozen:
 * `format_fixtures_test.ts` decodes them with today's decoders, which must keep reading them.
 */
import type {
  BucketRecord,
  FormatRecord,
  ObjectRecord,
  PartFileRecord,
  UploadRecord,
} from "../records.ts";

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * seed) & 0xff);

export const OBJECT_FILES_V1: ObjectRecord = {
  versions: [{
    versionId: "null",
    modTimeMs: 1_764_000_000_123,
    dataDir: "0f8c2a1e-6b7d-4e5f-9a0b-1c2d3e4f5a6b",
    size: 5 * 1024 * 1024 + 3,
    etag: "c4ca4238a0b923820dcc509a6f75849b-2",
    storageClass: "STANDARD",
    checksumType: "COMPOSITE",
    checksums: { CRC32C: bytes(4, 7) },
    erasure: {
      k: 4,
      m: 2,
      blockBytes: 1024 * 1024,
      shardIndex: 3,
      distribution: [3, 4, 5, 6, 1, 2],
      bitrot: 1,
    },
    parts: [
      {
        number: 1,
        size: 5 * 1024 * 1024,
        etag: "0cc175b9c0f1b6a831c399e269772661",
        modTimeMs: 1_764_000_000_001,
        checksums: { CRC32C: bytes(4, 3) },
      },
      {
        number: 2,
        size: 3,
        etag: "92eb5ffee6ae2fec3ad71c777531578f",
        modTimeMs: 1_764_000_000_002,
        checksums: { CRC32C: bytes(4, 5) },
      },
    ],
    metadata: [["content-type", "application/octet-stream"], ["x-amz-meta-owner", "ünïcode"]],
    tags: [["team", "ml"], ["empty", ""]],
  }],
};

export const OBJECT_INLINE_V1: ObjectRecord = {
  versions: [{
    versionId: "null",
    modTimeMs: 1_764_000_000_456,
    dataDir: "",
    size: 100,
    etag: "6d7fce9fee471194aa8b5b6e47267f03",
    storageClass: "REDUCED_REDUNDANCY",
    checksums: { SHA256: bytes(32, 11), CRC64NVME: bytes(8, 13) },
    erasure: {
      k: 2,
      m: 2,
      blockBytes: 1024 * 1024,
      shardIndex: 1,
      distribution: [1, 2, 3, 4],
      bitrot: 1,
    },
    parts: [{
      number: 1,
      size: 100,
      etag: "6d7fce9fee471194aa8b5b6e47267f03",
      modTimeMs: 1_764_000_000_456,
      checksums: {},
    }],
    metadata: [],
    tags: [],
    inline: bytes(8 + 32 + 50, 17),
  }],
};

export const FORMAT_V1: FormatRecord = {
  deploymentId: "7b1e8f3a-2c4d-4e6f-8a9b-0c1d2e3f4a5b",
  sets: [
    ["a1000000-0000-4000-8000-000000000001", "a1000000-0000-4000-8000-000000000002"],
    ["a1000000-0000-4000-8000-000000000003", "a1000000-0000-4000-8000-000000000004"],
  ],
  thisDriveId: "a1000000-0000-4000-8000-000000000003",
};

export const BUCKET_V1: BucketRecord = {
  createdMs: 1_764_000_000_789,
  configs: [["policy", '{"Version":"2012-10-17","Statement":[]}'], ["tagging", "a=b"]],
};

export const UPLOAD_V1: UploadRecord = {
  bucket: "photos",
  key: "2026/11/a b.jpg",
  uploadId: "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
  initiatedMs: 1_764_000_001_000,
  storageClass: "STANDARD",
  checksumAlg: "CRC32",
  checksumType: "FULL_OBJECT",
  k: 4,
  m: 2,
  distribution: [6, 5, 4, 3, 2, 1],
  metadata: [["x-amz-meta-a", "1"]],
  tags: [["k", "v"]],
};

export const PART_V1: PartFileRecord = {
  number: 7,
  size: 5 * 1024 * 1024,
  etag: "e80b5017098950fc58aad83c8c14978e",
  modTimeMs: 1_764_000_002_000,
  checksums: { CRC32: bytes(4, 19) },
  partDir: "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
  note: "", // version 1 has no note: it decodes as empty
};
