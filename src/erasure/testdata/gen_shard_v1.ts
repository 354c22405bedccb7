/**
 * Wrote the version-1 shard-file fixture in `shard_v1/` (run once, when shard files and object
 * records were at version 1):
 *   deno run -A src/erasure/testdata/gen_shard_v1.ts
 * It encodes `input()` with the encoder of the day (encodeStream, the object layer's own path)
 * into one shard file per drive, placed by the distribution, beside each drive's record. Never
 * re-run it after a format version changes: the files stand for what version 1 wrote.
 */
import { encodeStream } from "../encode.ts";
import { distributionFor } from "../geometry.ts";
import { encodeObjectRecord } from "../../storage/records.ts";
import * as v from "./shard_v1_values.ts";

const dir = new URL("shard_v1/", import.meta.url);
const n = v.DISTRIBUTION.length;
if (distributionFor(v.BUCKET, v.KEY, n).join() !== v.DISTRIBUTION.join()) {
  throw new Error("distributionFor changed: the fixture's DISTRIBUTION is no longer today's");
}
const { k, m, blockBytes } = v.versionFor(0).erasure;
// sinks[j] receives shard j + 1, which drive DISTRIBUTION.indexOf(j + 1) holds.
const chunks: Uint8Array[][] = Array.from({ length: n }, () => []);
const data = v.input();
await encodeStream(
  (async function* () {
    yield data;
  })(),
  {
    k,
    m,
    blockBytes,
    writeQuorum: n,
    sizeHint: data.length,
    sinks: chunks.map((c) => ({
      write: (chunk: Uint8Array) => {
        c.push(chunk.slice()); // frames are reused by the encoder
        return Promise.resolve();
      },
    })),
  },
);
for (let i = 0; i < n; i++) {
  const shard = chunks[v.DISTRIBUTION[i]! - 1]!;
  const file = new Uint8Array(shard.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of shard) {
    file.set(c, at);
    at += c.length;
  }
  await Deno.writeFile(new URL(`drive${i + 1}.part.1`, dir), file);
  await Deno.writeFile(
    new URL(`drive${i + 1}.meta`, dir),
    encodeObjectRecord({ versions: [v.versionFor(i)] }),
  );
  console.log(`drive${i + 1}: shard ${v.DISTRIBUTION[i]}, ${file.length} bytes`);
}
