/**
 * Wrote the version-1 record fixtures beside it (run once, when version 1 was current):
 *   deno run -A src/storage/testdata/gen_v1.ts
 * Never re-run it after a record version changes: the files stand for what version 1 wrote.
 */
import {
  encodeBucketRecord,
  encodeFormat,
  encodeObjectRecord,
  encodePartRecord,
  encodeUploadRecord,
} from "../records.ts";
import * as v from "./v1_values.ts";

const dir = new URL(".", import.meta.url);
const out: Array<[string, Uint8Array]> = [
  ["object_files_v1.bin", encodeObjectRecord(v.OBJECT_FILES_V1)],
  ["object_inline_v1.bin", encodeObjectRecord(v.OBJECT_INLINE_V1)],
  ["format_v1.bin", encodeFormat(v.FORMAT_V1)],
  ["bucket_v1.bin", encodeBucketRecord(v.BUCKET_V1)],
  ["upload_v1.bin", encodeUploadRecord(v.UPLOAD_V1)],
  ["part_v1.bin", encodePartRecord(v.PART_V1)],
];
for (const [name, bytes] of out) {
  await Deno.writeFile(new URL(name, dir), bytes);
  console.log(`${name}: ${bytes.length} bytes`);
}
