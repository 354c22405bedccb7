/**
 * The heal scanner and heal sequences over memory drives (6 drives, EC:2): an emptied drive is
 * refilled by a walk, progress counts what was healed, closing stops a slow walk at once, a walk
 * keeps to objectsPerSecondMax.
 */
import assert from "node:assert/strict";
import { BucketNotFound } from "../object/errors.ts";
import { openObjectLayerOn, type ShaleObjectLayer } from "../object/object_layer.ts";
import { MemoryDrive } from "../storage/memory_drive.ts";
import { setLogSink } from "../util/logger.ts";
import { healObject, HealTotals } from "./heal.ts";
import { HealSequences } from "./heal_sequences.ts";
import { HealScanner, scannerOptionsFromEnv } from "./scanner.ts";
import { SCANNER_DEEP_EVERY_CYCLES } from "../config/limits.ts";

setLogSink(() => {});
const KiB = 1024;
const SIZES = [0, 5, 100 * KiB, 300 * KiB + 7];

async function setup(): Promise<{ drives: MemoryDrive[]; layer: ShaleObjectLayer }> {
  const drives = Array.from({ length: 6 }, (_, i) => new MemoryDrive(`mem://s${i + 1}`));
  const layer = await openObjectLayerOn(drives, { standardParity: 2 });
  for (const bucket of ["one", "two"]) {
    await layer.makeBucket(bucket);
    for (const [i, size] of SIZES.entries()) {
      const data = new Uint8Array(size).fill(i + 1);
      await layer.putObject(bucket, `k/${i}`, new Blob([data]).stream(), {
        size,
        metadata: { user: {} },
      });
    }
  }
  return { drives, layer };
}

async function empty(d: MemoryDrive): Promise<void> {
  for (const e of await d.list("")) if (e.name !== ".shale.sys") await d.remove(e.name);
}

async function needsHeal(layer: ShaleObjectLayer): Promise<number> {
  let n = 0;
  for (const bucket of ["one", "two"]) {
    for (let i = 0; i < SIZES.length; i++) {
      const r = await healObject(layer, bucket, `k/${i}`);
      if (r.state !== "ok") n++;
    }
  }
  return n;
}

Deno.test("a scanner walk refills an emptied drive in every bucket and counts it", async () => {
  const { drives, layer } = await setup();
  await empty(drives[2]!);
  const totals = new HealTotals();
  const scanner = new HealScanner(layer, { objectsPerSecondMax: 10_000, totals });
  const c = await scanner.walk();
  assert.equal(c.scanned, 2 * SIZES.length);
  // The empty object has no shard on any drive but still a record: every object is healed.
  assert.equal(c.healed, 2 * SIZES.length);
  assert.equal(c.failed, 0);
  assert.equal(c.bytes, 2 * SIZES.reduce((a, b) => a + b, 0));
  assert.deepEqual(totals.counters, c);
  assert.ok(totals.lastActivityMs !== undefined);
  assert.equal(scanner.cycles, 1);
  assert.equal(await needsHeal(layer), 0);
  await layer.close();
});

Deno.test("a started scanner walks by itself, and close stops it mid-walk", async () => {
  const { drives, layer } = await setup();
  await empty(drives[4]!);
  const scanner = new HealScanner(layer, {
    startDelayMs: 0,
    intervalMs: 10,
    objectsPerSecondMax: 10_000,
  });
  scanner.start();
  while (scanner.cycles < 2) await new Promise((r) => setTimeout(r, 5));
  await scanner.close();
  assert.equal(await needsHeal(layer), 0);
  // A slow scanner (1 object a second) is stopped without waiting for its rate.
  await empty(drives[4]!);
  const slow = new HealScanner(layer, { startDelayMs: 0, objectsPerSecondMax: 1 });
  slow.start();
  await new Promise((r) => setTimeout(r, 50));
  const t = performance.now();
  await slow.close();
  assert.ok(performance.now() - t < 500, "close did not wait for the rate");
  assert.equal(slow.cycles, 0);
  await layer.close();
});

Deno.test("a heal sequence reports its progress; a second start of the same target joins it", async () => {
  const { drives, layer } = await setup();
  await empty(drives[0]!);
  await empty(drives[5]!);
  const seqs = new HealSequences(layer, { objectsPerSecondMax: 20 });
  const a = await seqs.start("one");
  assert.equal(a.state, "running");
  const b = await seqs.start("one");
  assert.equal(b.id, a.id);
  const one = await seqs.wait(a.id);
  assert.equal(one?.state, "finished");
  assert.equal(one?.scanned, SIZES.length);
  assert.equal(one?.healed, SIZES.length);
  assert.ok(one?.finished !== undefined && one.started <= one.finished);
  // Started after the first ended (run together, either could heal bucket one's keys): a new
  // sequence, which finds only bucket two's keys to heal.
  const all = await seqs.start();
  assert.notEqual(all.id, a.id);
  const every = await seqs.wait(all.id);
  assert.equal(every?.state, "finished");
  assert.equal(every?.scanned, 2 * SIZES.length);
  assert.equal(every?.healed, SIZES.length);
  assert.equal(every?.failed, 0);
  assert.equal(await needsHeal(layer), 0);
  await assert.rejects(seqs.start("nope"), BucketNotFound);
  assert.equal(seqs.get("unknown"), undefined);
  await layer.close();
});

Deno.test("a heal sequence of a prefix heals only the keys under it, and stop ends it", async () => {
  const { drives, layer } = await setup();
  await empty(drives[1]!);
  const seqs = new HealSequences(layer, { objectsPerSecondMax: 10_000 });
  const p = await seqs.wait((await seqs.start("two", "k/1")).id);
  assert.equal(p?.scanned, 1);
  const slow = new HealSequences(layer, { objectsPerSecondMax: 1 });
  const s = await slow.start("one");
  await new Promise((r) => setTimeout(r, 20));
  const stopped = await slow.stop(s.id);
  assert.equal(stopped?.state, "stopped");
  assert.ok((stopped?.scanned ?? 9) <= 2);
  await layer.close();
});

Deno.test("scanner settings come from SHALE_SCANNER_INTERVAL and SHALE_SCANNER_OBJECTS_PER_SECOND", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.deepEqual(scannerOptionsFromEnv(env({})), {});
  assert.deepEqual(
    scannerOptionsFromEnv(env({
      SHALE_SCANNER_INTERVAL: "500ms",
      SHALE_SCANNER_OBJECTS_PER_SECOND: "2000",
    })),
    { intervalMs: 500, startDelayMs: 500, objectsPerSecondMax: 2000 },
  );
  assert.equal(scannerOptionsFromEnv(env({ SHALE_SCANNER_INTERVAL: "2h" })).intervalMs, 7_200_000);
  assert.equal(scannerOptionsFromEnv(env({ SHALE_SCANNER_INTERVAL: "90" })).intervalMs, 90_000);
  assert.deepEqual(scannerOptionsFromEnv(env({ SHALE_SCANNER_INTERVAL: "off" })), { off: true });
  assert.throws(() => scannerOptionsFromEnv(env({ SHALE_SCANNER_INTERVAL: "soon" })), /duration/);
  assert.throws(
    () => scannerOptionsFromEnv(env({ SHALE_SCANNER_OBJECTS_PER_SECOND: "0" })),
    /positive/,
  );
});

Deno.test("shallow walks find lost and short shard files; the periodic deep walk finds flipped bits", async () => {
  const { drives, layer } = await setup();
  // k/3 is 300 KiB + 7: shard files on every drive. Truncate one, flip a byte in another.
  const files = async (d: MemoryDrive) => {
    const dir = (await d.list("one/k/3")).find((e) => e.isDir)!.name;
    return `one/k/3/${dir}/part.1`;
  };
  const short = await files(drives[0]!);
  const b0 = await drives[0]!.readFile(short, 1 << 30);
  await drives[0]!.writeFile(short, b0.subarray(0, b0.length - 1));
  const flipped = await files(drives[1]!);
  const b1 = await drives[1]!.readFile(flipped, 1 << 30);
  b1[100] = b1[100]! ^ 0xff;
  await drives[1]!.writeFile(flipped, b1);
  const scanner = new HealScanner(layer, { objectsPerSecondMax: 10_000 });
  const shallow = await scanner.walk();
  assert.equal(shallow.healed, 1, "the short file is found by its size");
  assert.deepEqual((await healObject(layer, "one", "k/3", { deep: false })).state, "ok");
  scanner.cycles = SCANNER_DEEP_EVERY_CYCLES - 1;
  const deep = await scanner.walk();
  assert.equal(deep.healed, 1, "the flipped byte is found by its frame hash");
  assert.equal(await needsHeal(layer), 0);
  await layer.close();
});

Deno.test("a scanner walk checks at most objectsPerSecondMax objects a second", async () => {
  // 20 small objects in two buckets, all on a drive about to be emptied: each is healed.
  const drives = Array.from({ length: 6 }, (_, i) => new MemoryDrive(`mem://r${i + 1}`));
  const layer = await openObjectLayerOn(drives, { standardParity: 2 });
  const perBucket = 10;
  for (const bucket of ["one", "two"]) {
    await layer.makeBucket(bucket);
    for (let i = 0; i < perBucket; i++) {
      await layer.putObject(bucket, `r/${i}`, new Blob(["rate"]).stream(), {
        size: 4,
        metadata: { user: {} },
      });
    }
  }
  const n = 2 * perBucket;
  const walk = async (rate: number, sampleAtMs?: number) => {
    await empty(drives[3]!);
    const totals = new HealTotals();
    const scanner = new HealScanner(layer, { objectsPerSecondMax: rate, totals });
    const t = performance.now();
    const walked = scanner.walk();
    let sampled: { atMs: number; scanned: number } | undefined;
    if (sampleAtMs !== undefined) {
      await new Promise((r) => setTimeout(r, sampleAtMs));
      sampled = { atMs: performance.now() - t, scanned: totals.counters.scanned };
    }
    const c = await walked;
    const ms = performance.now() - t;
    assert.equal(c.scanned, n);
    assert.equal(c.healed, n);
    assert.equal(await needsHealOf(layer, perBucket), 0);
    return { ms, sampled };
  };
  // At 10 a second, 20 objects are spread over 2 s: 1.9 s from the first to the last at least,
  // and by any time τ at most ⌊τ / 100 ms⌋ + 1 of them checked (the first at 0 ms, then one
  // every 100 ms; 11 by about 1,050 ms).
  const slow = await walk(10, 1_050);
  assert.ok(slow.sampled !== undefined);
  const { atMs, scanned } = slow.sampled;
  console.log(
    `rate 10: ${n} objects in ${Math.round(slow.ms)} ms, ${scanned} by ${Math.round(atMs)} ms`,
  );
  assert.ok(slow.ms >= 1_900, `${n} objects at 10 a second took ${slow.ms} ms`);
  assert.ok(scanned <= Math.floor(atMs / 100) + 1, `${scanned} objects by ${atMs} ms`);
  assert.ok(scanned >= 1, "the walk had begun");
  // At 1,000 a second the same work is done well inside that: the time above is the rate's.
  const fast = await walk(1_000);
  console.log(`rate 1000: ${n} objects in ${Math.round(fast.ms)} ms`);
  assert.ok(fast.ms < 1_000, `${n} objects at 1,000 a second took ${fast.ms} ms`);
  await layer.close();
});

async function needsHealOf(layer: ShaleObjectLayer, perBucket: number): Promise<number> {
  let n = 0;
  for (const bucket of ["one", "two"]) {
    for (let i = 0; i < perBucket; i++) {
      if ((await healObject(layer, bucket, `r/${i}`)).state !== "ok") n++;
    }
  }
  return n;
}
