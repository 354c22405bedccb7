/**
 * Heal over memory drives (6 drives, EC:2): seeded damage on two drives (shard files deleted,
 * truncated or bit-flipped, records deleted or corrupted), then a bucket heal or heal-on-read. Proof
 * of healing: a second pass finds nothing to do, and with the two *other* drives offline every
 * object still reads back byte-exact (so the healed drives hold good shards).
 * SHALE_SEED=<n> replays.
 */
import assert from "node:assert/strict";
import { ERASURE_BLOCK_BYTES } from "../config/limits.ts";
import { frameOffset, HASH_BYTES, partLayout } from "../erasure/mod.ts";
import { openObjectLayerOn, type ShaleObjectLayer } from "../object/object_layer.ts";
import { ObjectNotFound } from "../object/errors.ts";
import { MemoryDrive } from "../storage/memory_drive.ts";
import { setLogSink } from "../util/logger.ts";
import { healBucket, healObject, HealQueue } from "./heal.ts";
import { rng, SEED } from "../object/_testing.ts";

const KiB = 1024, MiB = 1024 * KiB;
const SIZES = [0, 1, 100 * KiB, 128 * KiB + 1, MiB + 1, 3 * MiB + 5];
setLogSink(() => {});

function bytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => (r() * 256) | 0);
}
const streamOf = (b: Uint8Array) => new Blob([b.slice()]).stream();

async function setup(): Promise<
  { drives: MemoryDrive[]; layer: ShaleObjectLayer; objects: Map<string, Uint8Array> }
> {
  const drives = Array.from({ length: 6 }, (_, i) => new MemoryDrive(`mem://h${i + 1}`));
  const layer = await openObjectLayerOn(drives, { standardParity: 2 });
  await layer.makeBucket("bkt");
  const objects = new Map<string, Uint8Array>();
  for (const [i, size] of SIZES.entries()) {
    const data = bytes(size, SEED + i);
    await layer.putObject("bkt", `o/${i}`, streamOf(data), { size, metadata: { user: {} } });
    objects.set(`o/${i}`, data);
  }
  const p1 = bytes(5 * MiB, SEED + 50), p2 = bytes(KiB + 1, SEED + 51);
  const id = await layer.newMultipartUpload("bkt", "mp", { metadata: { user: {} } });
  const e1 = await layer.putObjectPart("bkt", "mp", id, 1, streamOf(p1), { size: p1.length });
  const e2 = await layer.putObjectPart("bkt", "mp", id, 2, streamOf(p2), { size: p2.length });
  await layer.completeMultipartUpload("bkt", "mp", id, [
    { partNumber: 1, etag: e1.etag },
    { partNumber: 2, etag: e2.etag },
  ], {});
  const whole = new Uint8Array(p1.length + p2.length);
  whole.set(p1);
  whole.set(p2, p1.length);
  objects.set("mp", whole);
  return { drives, layer, objects };
}

/** Every file of the bucket on a drive. */
async function filesOf(d: MemoryDrive, dir = "bkt"): Promise<string[]> {
  const out: string[] = [];
  for (const e of await d.list(dir)) {
    if (e.isDir) out.push(...await filesOf(d, `${dir}/${e.name}`));
    else out.push(`${dir}/${e.name}`);
  }
  return out;
}

/** Seeded damage on two drives; returns their indexes and how many files were damaged. */
async function damage(drives: MemoryDrive[], seed: number): Promise<[number[], number]> {
  const r = rng(seed);
  const bad = new Set<number>();
  while (bad.size < 2) bad.add(Math.floor(r() * drives.length));
  let n = 0;
  for (const i of bad) {
    const d = drives[i]!;
    for (const f of await filesOf(d)) {
      const roll = r();
      if (roll < 0.25) await d.remove(f);
      else if (roll < 0.5) {
        const b = await d.readFile(f, 1 << 30);
        const at = Math.floor(r() * b.length);
        if (b.length > 0) b[at] = b[at]! ^ 0x5a;
        await d.writeFile(f, b);
      } else if (roll < 0.6) {
        const b = await d.readFile(f, 1 << 30);
        await d.writeFile(f, b.subarray(0, Math.floor(b.length / 2)));
      } else continue;
      n++;
    }
  }
  return [[...bad], n];
}

async function readAllBack(layer: ShaleObjectLayer, objects: Map<string, Uint8Array>) {
  for (const [key, want] of objects) {
    const o = await layer.openObject("bkt", key);
    const got = new Uint8Array(await new Response(o.stream(0, o.info.size)).arrayBuffer());
    assert.deepEqual(got, want, `${key} reads back`);
  }
}

async function assertHealed(
  drives: MemoryDrive[],
  layer: ShaleObjectLayer,
  objects: Map<string, Uint8Array>,
  bad: number[],
) {
  for (const key of objects.keys()) {
    assert.equal((await healObject(layer, "bkt", key)).state, "ok", `${key} needs no more heal`);
  }
  // Only the healed drives and two others remain: they must hold k good shards of everything.
  const others = drives.map((_, i) => i).filter((i) => !bad.includes(i)).slice(0, 2);
  for (const i of others) drives[i]!.offline = true;
  await readAllBack(layer, objects);
  for (const i of others) drives[i]!.offline = false;
}

Deno.test("a bucket heal rewrites missing, short and rotten shards and records on two drives", async () => {
  console.log(`heal seed ${SEED} (replay with SHALE_SEED=${SEED})`);
  const { drives, layer, objects } = await setup();
  const [bad, damagedFiles] = await damage(drives, SEED);
  assert.ok(damagedFiles > 0);
  await readAllBack(layer, objects);
  const c = await healBucket(layer, "bkt", { objectsPerSecondMax: 1000 });
  assert.equal(c.failed, 0);
  assert.ok(c.healed > 0 && c.scanned === objects.size, JSON.stringify(c));
  await assertHealed(drives, layer, objects, bad);
  console.log(`heal: ${damagedFiles} files damaged on drives ${bad}, ${c.healed} objects healed`);
  await layer.close();
});

Deno.test("a read that meets a bad or missing shard queues the object and it gets healed", async () => {
  const { drives, layer, objects } = await setup();
  const queue = new HealQueue(layer);
  layer.onDamaged = (b, k) => queue.add(b, k);
  const [bad] = await damage(drives, SEED + 1);
  await readAllBack(layer, objects);
  await queue.idle();
  assert.equal(queue.counters.failed, 0);
  assert.ok(queue.counters.healed > 0);
  // Reads see data shards (and parity only when a data shard fails): once healed, a second read
  // of everything meets nothing bad. Parity a read never touched is the bucket walk's job.
  const again: string[] = [];
  layer.onDamaged = (_b, k) => again.push(k);
  await readAllBack(layer, objects);
  assert.deepEqual(again, []);
  await healBucket(layer, "bkt", { objectsPerSecondMax: 1000 });
  await assertHealed(drives, layer, objects, bad);
  await layer.close();
});

Deno.test("rot on more drives than parity, but in different blocks, is healed on every drive", async () => {
  // o/5 has 4 blocks; one flipped frame on each of four drives, each in its own block: every
  // block keeps k good frames, so the object is whole, but only 2 drives are entirely intact.
  const { drives, layer, objects } = await setup();
  const size = SIZES[5]!;
  const layout = partLayout(size, ERASURE_BLOCK_BYTES, 4);
  assert.equal(layout.blocks, 4);
  for (let b = 0; b < layout.blocks; b++) {
    const d = drives[b]!;
    const part = (await filesOf(d)).find((f) => f.startsWith("bkt/o/5/") && f.endsWith("part.1"))!;
    const file = await d.readFile(part, 1 << 30);
    file[frameOffset(layout, b) + HASH_BYTES + 1]! ^= 0x81;
    await d.writeFile(part, file);
  }
  await readAllBack(layer, objects);
  const res = await healObject(layer, "bkt", "o/5");
  assert.equal(res.state, "healed");
  assert.deepEqual(res.damaged, [0, 1, 2, 3]);
  assert.deepEqual(res.healed, [0, 1, 2, 3]);
  await assertHealed(drives, layer, objects, [0, 1]);
  await assertHealed(drives, layer, objects, [2, 3]);
  await layer.close();
});

Deno.test("an empty replacement drive is refilled by a bucket heal", async () => {
  const { drives, layer, objects } = await setup();
  for (const f of await drives[3]!.list("")) await drives[3]!.remove(f.name);
  await drives[3]!.writeFile(".shale.sys/format.shale", new Uint8Array(0)); // stays "ours"
  const c = await healBucket(layer, "bkt", { objectsPerSecondMax: 1000 });
  assert.equal(c.healed, objects.size);
  await assertHealed(drives, layer, objects, [3]);
  await layer.close();
});

Deno.test("heal removes data dirs no record refers to (left by a crashed commit)", async () => {
  const { drives, layer, objects } = await setup();
  const orphan = `bkt/o/4/~${crypto.randomUUID()}`;
  for (const d of drives.slice(0, 3)) await d.writeFile(`${orphan}/part.1`, new Uint8Array(9));
  const res = await healObject(layer, "bkt", "o/4");
  assert.equal(res.state, "ok");
  assert.equal(res.orphansRemoved, 3);
  for (const d of drives) assert.equal(await d.stat(orphan), undefined);
  await readAllBack(layer, objects);
  await layer.close();
});

Deno.test("a drive that is gone is left for later, and reads do not queue its keys again at once", async () => {
  const { drives, layer, objects } = await setup();
  const queue = new HealQueue(layer);
  layer.onDamaged = (b, k) => queue.add(b, k);
  for (const f of await drives[2]!.list("")) await drives[2]!.remove(f.name);
  drives[2]!.offline = true;
  await readAllBack(layer, objects);
  await queue.idle();
  const first = { ...queue.counters };
  assert.equal(first.failed, 0, "a gone drive is not a failure");
  assert.equal(first.healed, 0, "nothing could be written");
  assert.ok(first.scanned > 0);
  // Reads while the drive is still gone: no new heal of the same keys (HEAL_RETRY_AFTER_MS).
  await readAllBack(layer, objects);
  await queue.idle();
  assert.equal(queue.counters.scanned, first.scanned);
  // Back (and empty): the walk refills it.
  drives[2]!.offline = false;
  const c = await healBucket(layer, "bkt", { objectsPerSecondMax: 1000 });
  assert.equal(c.healed, objects.size);
  await assertHealed(drives, layer, objects, [2]);
  await queue.close();
  await layer.close();
});

Deno.test("a delete made while two drives were away leaves no record behind once heal has run", async () => {
  const { drives, layer, objects } = await setup();
  const stale = "o/4"; // multi-block: shard files as well as records
  drives[0]!.offline = drives[1]!.offline = true;
  await layer.deleteObject("bkt", stale);
  objects.delete(stale);
  drives[0]!.offline = drives[1]!.offline = false;
  const leftovers = async () =>
    (await Promise.all(drives.map((d) => filesOf(d, `bkt/${stale}`).catch(() => [])))).flat();
  assert.ok((await leftovers()).length > 0, "the away drives still hold the old object");
  await assert.rejects(layer.getObjectInfo("bkt", stale), ObjectNotFound);

  // While a drive is offline, the leftovers might be part of a quorum: heal keeps them.
  drives[5]!.offline = true;
  assert.equal((await healObject(layer, "bkt", stale)).state, "gone");
  assert.ok((await leftovers()).length > 0);
  drives[5]!.offline = false;

  // A bucket heal meets the key although no listing shows it, and removes what is left.
  const c = await healBucket(layer, "bkt", { objectsPerSecondMax: 1000 });
  assert.equal(c.healed, 1);
  assert.deepEqual(await leftovers(), []);
  // Two other drives lost (within parity): the key is still absent, not a lost quorum (503).
  drives[2]!.offline = drives[3]!.offline = true;
  await assert.rejects(layer.getObjectInfo("bkt", stale), ObjectNotFound);
  await readAllBack(layer, objects);
  drives[2]!.offline = drives[3]!.offline = false;
  assert.equal((await healObject(layer, "bkt", stale)).state, "gone");
  await layer.close();
});
