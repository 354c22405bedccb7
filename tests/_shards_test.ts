/**
 * The shard check the heal, drive-loss and bitrot suites end with: it must find a drive that holds
 * another drive's shard, even when every frame of it is intact (files or records swapped).
 */
import assert from "node:assert/strict";
import { openObjectLayer } from "../src/object/mod.ts";
import { bodyOf, randomBytes, SEED } from "../src/object/_testing.ts";
import { dataDirName, decodeObjectRecord, keyPath, META_FILE } from "../src/storage/mod.ts";
import { shardProblems } from "./_shards.ts";

const MiB = 1024 * 1024;

async function swap(a: string, b: string): Promise<void> {
  await Deno.rename(a, `${a}.swap`);
  await Deno.rename(b, a);
  await Deno.rename(`${a}.swap`, b);
}

Deno.test("the shard check finds two drives' shard files or records swapped", async () => {
  console.log(`_shards_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);
  const root = await Deno.makeTempDir({ prefix: "shale-shards-" });
  const drives = [1, 2, 3, 4, 5, 6].map((i) => `${root}/d${i}`);
  try {
    const layer = await openObjectLayer({ drives, standardParity: 2 });
    await layer.makeBucket("bkt");
    const big = randomBytes(MiB + 5, SEED);
    await layer.putObject("bkt", "big", bodyOf(big), { size: big.length, metadata: { user: {} } });
    const small = randomBytes(1000, SEED + 1);
    await layer.putObject("bkt", "small", bodyOf(small), {
      size: small.length,
      metadata: { user: {} },
    });
    await layer.close();
    for (const key of ["big", "small"]) {
      assert.deepEqual(await shardProblems(drives, "bkt", key), []);
    }

    const dir = keyPath("bkt", "big").dir;
    const rec = decodeObjectRecord(await Deno.readFile(`${drives[0]}/${dir}/${META_FILE}`));
    const v = rec.versions[0]!;
    assert.equal(v.inline, undefined, "big is stored in shard files");
    const part = (i: number) => `${drives[i]}/${dir}/${dataDirName(v.dataDir)}/part.1`;
    const meta = (i: number, key: string) => `${drives[i]}/${keyPath("bkt", key).dir}/${META_FILE}`;

    // Every pair of drives: a data shard with a data shard, with a parity shard, parity with parity.
    for (let a = 0; a < 6; a++) {
      for (let b = a + 1; b < 6; b++) {
        await swap(part(a), part(b));
        const problems = await shardProblems(drives, "bkt", "big");
        assert.equal(problems.length, 1, `part.1 of drives ${a + 1} and ${b + 1} swapped`);
        assert.match(problems[0]!, /^big, part 1: block 0 is not what its data shards encode to/);
        await swap(part(a), part(b));
      }
    }
    assert.deepEqual(await shardProblems(drives, "bkt", "big"), []);

    // Records swapped: the files are in place, but each record names the other drive's shard.
    await swap(meta(1, "big"), meta(4, "big"));
    const problems = await shardProblems(drives, "bkt", "big");
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0]!, /^big on drive 2: the record says shard \d, the drive's own is \d$/);
    assert.match(problems[1]!, /^big on drive 5: the record says shard \d, the drive's own is \d$/);
    await swap(meta(1, "big"), meta(4, "big"));

    // An inline object: the shard travels with the record, so both checks fire.
    await swap(meta(0, "small"), meta(3, "small"));
    const inline = await shardProblems(drives, "bkt", "small");
    assert.ok(
      inline.some((p) => p.startsWith("small on drive 1: the record says shard")),
      inline.join("\n"),
    );
    assert.ok(
      inline.some((p) => p.startsWith("small, inline: block 0 is not what")),
      inline.join("\n"),
    );
    await swap(meta(0, "small"), meta(3, "small"));
    for (const key of ["big", "small"]) {
      assert.deepEqual(await shardProblems(drives, "bkt", key), []);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
