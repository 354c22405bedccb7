/**
 * Decoders keep reading every earlier version (FORMAT.md): `testdata/shard_v1/` holds the shard
 * files and records of one two-block object as version 1 wrote them (testdata/gen_shard_v1.ts,
 * values in testdata/shard_v1_values.ts), frozen. Today's record decoder and PartDecoder must read
 * the object back byte-exact from them, also with m drives gone; a file whose header carries a
 * version this build does not know is refused, never read as if it were version 1.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { decodeObjectRecord, type VersionRecord } from "../storage/records.ts";
import { partLayout, SHARD_HEADER } from "./bitrot.ts";
import { PartDecoder, type ShardSource } from "./decode.ts";
import { InsufficientShards } from "./encode.ts";
import { distributionFor } from "./geometry.ts";
import * as v1 from "./testdata/shard_v1_values.ts";

const N = v1.DISTRIBUTION.length;
const read = (name: string) =>
  Deno.readFile(new URL(`./testdata/shard_v1/${name}`, import.meta.url));
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Every drive's record and shard file. */
async function drives(): Promise<Array<{ v: VersionRecord; file: Uint8Array }>> {
  return await Promise.all(Array.from({ length: N }, async (_, i) => {
    const rec = decodeObjectRecord(await read(`drive${i + 1}.meta`));
    assert.equal(rec.versions.length, 1);
    return { v: rec.versions[0]!, file: await read(`drive${i + 1}.part.1`) };
  }));
}

function sourceOf(file: Uint8Array): ShardSource {
  return {
    readAt: (offset, length) => Promise.resolve(file.slice(offset, offset + length)),
  };
}

/**
 * The object as a reader of today puts it together: each drive's file goes to the shard index its
 * record names; drives in `gone` are offline.
 */
async function decode(
  ds: Array<{ v: VersionRecord; file: Uint8Array }>,
  gone: number[] = [],
): Promise<Uint8Array> {
  const { k, m, blockBytes } = ds[0]!.v.erasure;
  const layout = partLayout(ds[0]!.v.parts[0]!.size, blockBytes, k);
  const sources: Array<ShardSource | undefined> = new Array(k + m).fill(undefined);
  ds.forEach((d, i) => {
    if (!gone.includes(i)) sources[d.v.erasure.shardIndex - 1] = sourceOf(d.file);
  });
  const decoder = new PartDecoder({ k, m, layout, sources });
  const out = new Uint8Array(layout.size);
  for (let b = 0; b < layout.blocks; b++) out.set(await decoder.readBlock(b), b * blockBytes);
  return out;
}

Deno.test("the version 1 fixture is what its values say: two blocks in shard files, 4+2", async () => {
  assert.equal(sha256(v1.input()), v1.INPUT_SHA256, "the input generator is unchanged");
  assert.deepEqual(distributionFor(v1.BUCKET, v1.KEY, N), v1.DISTRIBUTION);
  const ds = await drives();
  for (const [i, d] of ds.entries()) {
    assert.deepEqual(d.v, v1.versionFor(i), `drive ${i + 1}'s record`);
    assert.equal(d.v.inline, undefined, "not inline");
    assert.deepEqual(d.file.subarray(0, 8), SHARD_HEADER, "SHLS version 1");
  }
  const l = partLayout(v1.SIZE, ds[0]!.v.erasure.blockBytes, ds[0]!.v.erasure.k);
  assert.equal(l.blocks, 2);
});

Deno.test("version 1 shard files still decode byte-exact, also with any 2 of 6 drives gone", async () => {
  const ds = await drives();
  assert.equal(sha256(await decode(ds)), v1.INPUT_SHA256);
  for (let a = 0; a < N; a++) {
    for (let b = a + 1; b < N; b++) {
      assert.equal(sha256(await decode(ds, [a, b])), v1.INPUT_SHA256, `drives ${a + 1}, ${b + 1}`);
    }
  }
});

Deno.test("a shard file with an unknown header version is refused with a clear error", async () => {
  const ds = await drives();
  const withVersion = (file: Uint8Array, version: number) => {
    const out = file.slice();
    out[4] = version >> 8;
    out[5] = version & 0xff;
    return out;
  };
  // Every drive's file from a (hypothetical) version 2: nothing is returned, and the error says why.
  const all = ds.map((d) => ({ v: d.v, file: withVersion(d.file, 2) }));
  await assert.rejects(
    () => decode(all),
    (e) =>
      e instanceof InsufficientShards &&
      /Shard file version "2" is unknown \(this build reads version 1\)/.test(e.message),
  );
  // On m drives only: those shards are not used, and the object still reads byte-exact.
  const some = ds.map((d, i) => i < 2 ? { v: d.v, file: withVersion(d.file, 2) } : d);
  assert.equal(sha256(await decode(some)), v1.INPUT_SHA256);
  // On m + 1: refused, and block 1 too, though those files' frames of it are intact.
  const { k, m, blockBytes } = ds[0]!.v.erasure;
  const sources: ShardSource[] = [];
  ds.forEach((d, i) => {
    sources[d.v.erasure.shardIndex - 1] = sourceOf(i < 3 ? withVersion(d.file, 258) : d.file);
  });
  const decoder = new PartDecoder({ k, m, layout: partLayout(v1.SIZE, blockBytes, k), sources });
  await assert.rejects(() => decoder.readBlock(0), /Shard file version "258" is unknown/);
  await assert.rejects(() => decoder.readBlock(1), /Shard file version "258" is unknown/);
});
