/**
 * Decoders keep reading every earlier version (FORMAT.md): the record files in testdata/ were
 * written by version 1's encoders (testdata/gen_v1.ts) and are frozen; today's decoders must read
 * them back to the same values. When a record gets version 2, keep these files and add v2 ones.
 */
import assert from "node:assert/strict";
import {
  CorruptRecord,
  decodeBucketRecord,
  decodeFormat,
  decodeObjectRecord,
  decodePartRecord,
  decodeUploadRecord,
} from "./records.ts";
import * as v1 from "./testdata/v1_values.ts";

const read = (name: string) => Deno.readFile(new URL(`./testdata/${name}`, import.meta.url));

Deno.test("version 1 object records (shard files and inline) still decode to what was written", async () => {
  assert.deepEqual(decodeObjectRecord(await read("object_files_v1.bin")), v1.OBJECT_FILES_V1);
  assert.deepEqual(decodeObjectRecord(await read("object_inline_v1.bin")), v1.OBJECT_INLINE_V1);
});

Deno.test("version 1 format, bucket, upload and part records still decode to what was written", async () => {
  assert.deepEqual(decodeFormat(await read("format_v1.bin")), v1.FORMAT_V1);
  assert.deepEqual(decodeBucketRecord(await read("bucket_v1.bin")), v1.BUCKET_V1);
  assert.deepEqual(decodeUploadRecord(await read("upload_v1.bin")), v1.UPLOAD_V1);
  assert.deepEqual(decodePartRecord(await read("part_v1.bin")), v1.PART_V1);
});

Deno.test("a version 1 record with one byte changed is refused, not misread", async () => {
  const bytes = await read("object_files_v1.bin");
  for (const at of [0, 4, 8, 20, bytes.length - 1]) {
    const bad = bytes.slice();
    bad[at] = bad[at]! ^ 0x01;
    assert.throws(() => decodeObjectRecord(bad), CorruptRecord, `byte ${at}`);
  }
});
