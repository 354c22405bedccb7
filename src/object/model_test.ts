/**
 * A seeded random workload against a model: puts, overwrites, deletes, tag changes and reads,
 * while two drives of a 6-drive EC:2 set go offline and come back (their records go stale).
 * Every read must return the model's bytes and every listing the model's keys.
 */
import assert from "node:assert/strict";
import { compareKeys, MemoryDrive } from "../storage/mod.ts";
import { setLogSink } from "../util/logger.ts";
import { ObjectNotFound } from "./errors.ts";
import { openObjectLayerOn } from "./object_layer.ts";
import { bodyOf, randomBytes, readAll, rng, SEED } from "./_testing.ts";

Deno.test("a random workload with drives going offline and back matches a model", async () => {
  const seed = SEED;
  console.log(`model_test seed ${seed} (replay with SHALE_SEED=${seed})`);
  const r = rng(seed);
  const drives = Array.from({ length: 6 }, (_, i) => new MemoryDrive(`mem://m${i + 1}`));
  const layer = await openObjectLayerOn(drives, { standardParity: 2 });
  setLogSink(() => {});
  try {
    await layer.makeBucket("bkt");
    const model = new Map<string, Uint8Array>();
    const keys = Array.from({ length: 40 }, (_, i) => `d${i % 4}/k${i}`);
    let ops = 0;
    for (let step = 0; step < 400; step++) {
      const roll = r();
      const key = keys[Math.floor(r() * keys.length)]!;
      if (roll < 0.08) {
        // Only drives 1 and 2 fail, so drives 3..6 always hold every acknowledged write.
        const d = drives[Math.floor(r() * 2)]!;
        d.offline = !d.offline;
      } else if (roll < 0.5) {
        const size = r() < 0.1
          ? 1024 * 1024 + Math.floor(r() * 300_000)
          : Math.floor(r() * 200_000);
        const data = randomBytes(size, seed * 1000 + step);
        await layer.putObject("bkt", key, bodyOf(data), { size, metadata: { user: {} } });
        model.set(key, data);
      } else if (roll < 0.65) {
        await layer.deleteObject("bkt", key);
        model.delete(key);
      } else {
        const want = model.get(key);
        if (want === undefined) {
          await assert.rejects(
            () => layer.openObject("bkt", key),
            ObjectNotFound,
            `step ${step} ${key}`,
          );
        } else {
          const o = await layer.openObject("bkt", key);
          assert.equal(o.info.size, want.length);
          const from = Math.floor(r() * want.length);
          const len = Math.floor(r() * (want.length - from));
          assert.deepEqual(
            await readAll(o.stream(from, len)),
            want.subarray(from, from + len),
            `step ${step} ${key}`,
          );
        }
      }
      ops++;
      if (step % 50 === 49) {
        const listed = await layer.listObjects("bkt", {
          prefix: "",
          delimiter: "",
          after: "",
          maxKeys: 1000,
        });
        assert.deepEqual(
          listed.objects.map((o) => o.key),
          [...model.keys()].sort(compareKeys),
          `step ${step}`,
        );
      }
    }
    for (const d of drives) d.offline = false;
    for (const [key, data] of model) {
      const o = await layer.openObject("bkt", key);
      assert.deepEqual(await readAll(o.stream(0, data.length)), data, key);
    }
    console.log(`${ops} operations, ${model.size} objects checked at the end`);
  } finally {
    setLogSink((l) => console.log(l));
  }
});

Deno.test("concurrent overwrites and reads of one key never mix versions", async () => {
  const drives = Array.from({ length: 4 }, (_, i) => new MemoryDrive(`mem://c${i + 1}`));
  const layer = await openObjectLayerOn(drives, {});
  await layer.makeBucket("bkt");
  const versions = Array.from(
    { length: 8 },
    (_, i) => randomBytes(1024 * 1024 + 1000 * i, SEED + i),
  );
  await layer.putObject("bkt", "k", bodyOf(versions[0]!), {
    size: versions[0]!.length,
    metadata: { user: {} },
  });
  const matches = (b: Uint8Array) =>
    versions.some((v) => v.length === b.length && v.every((x, i) => x === b[i]));
  const writes = versions.map((v) =>
    layer.putObject("bkt", "k", bodyOf(v, 100_003), { size: v.length, metadata: { user: {} } })
  );
  const reads = Array.from({ length: 8 }, async () => {
    const o = await layer.openObject("bkt", "k");
    const got = await readAll(o.stream(0, o.info.size));
    assert.ok(matches(got), "a read returned a mix of versions");
  });
  await Promise.all([...writes, ...reads]);
  const o = await layer.openObject("bkt", "k");
  assert.ok(matches(await readAll(o.stream(0, o.info.size))));
  // Only the winning version's data directory remains on each drive.
  for (const d of drives) {
    const dirs = (await d.list("bkt/k")).filter((e) => e.isDir);
    assert.equal(dirs.length, 1);
  }
});
