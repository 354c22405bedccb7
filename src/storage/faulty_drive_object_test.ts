/**
 * The object layer over fault-injecting drives (a cross-layer test kept beside FaultyDrive).
 * A seeded workload of PUTs (inline, one block, multi-block), overwrites, deletes and multipart
 * uploads runs against a model that knows, per key, every value it may hold: an acknowledged
 * operation leaves exactly one, a failed one leaves the old and the new (it may or may not have
 * taken effect, never half).
 * - Faults on at most m drives of the set: every operation's outcome is allowed to fail only for
 *   writes; every read returns the model's bytes (byte-exact, never an error).
 * - Faults on m + 1 drives: reads return an allowed value or an error, never other bytes.
 * - Lost fsyncs on m drives, then a power loss (crash) and a restart: every acknowledged object
 *   reads back byte-exact.
 * SHALE_SEED=<n> replays one seed; SHALE_FAULT_SEEDS=<n> runs more.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openObjectLayerOn, type ShaleObjectLayer } from "../object/object_layer.ts";
import { ObjectNotFound } from "../object/errors.ts";
import { setLogSink } from "../util/logger.ts";
import { type FaultRates, FaultyDrive } from "./faulty_drive.ts";
import { MemoryDrive } from "./memory_drive.ts";

const KiB = 1024, MiB = 1024 * KiB;
const FIXED = Deno.env.get("SHALE_SEED");
const BASE = Number(FIXED ?? Date.now() % 1_000_000);
const SEEDS = FIXED !== undefined ? 1 : Number(Deno.env.get("SHALE_FAULT_SEEDS") ?? 4);
const SIZES = [0, 1, 1000, 128 * KiB - 1, 128 * KiB, 300 * KiB, MiB, MiB + 1, 2 * MiB + 17];
const ALL_FAULTS: FaultRates = {
  ioError: 0.03,
  noSpace: 0.02,
  tornWrite: 0.05,
  shortWrite: 0.05,
  bitFlip: 0.05,
};

function rng(seed: number): () => number {
  let x = (seed >>> 0) || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
function bytes(n: number, r: () => number): Uint8Array {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = (r() * 2 ** 32) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, n);
}
const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
function bodyOf(data: Uint8Array): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= data.length) return c.close();
      c.enqueue(data.slice(off, off + 64 * KiB + 7));
      off += 64 * KiB + 7;
    },
  });
}

/** Per key: the digests it may hold ("" = absent). */
type Model = Map<string, Set<string>>;

interface Tally {
  seeds: number;
  ops: number;
  failedWrites: number;
  reads: number;
  readErrors: number;
  wrong: number;
  injected: number;
}

async function readKey(layer: ShaleObjectLayer, key: string): Promise<string> {
  try {
    const o = await layer.openObject("bkt", key);
    const got = new Uint8Array(await new Response(o.stream(0, o.info.size)).arrayBuffer());
    return digest(got);
  } catch (e) {
    if (e instanceof ObjectNotFound) return "";
    throw e;
  }
}

async function workload(
  layer: ShaleObjectLayer,
  seed: number,
  model: Model,
  t: Tally,
  opts: { steps: number; readsMustWork: boolean },
): Promise<void> {
  const r = rng(seed);
  const keys = Array.from({ length: 12 }, (_, i) => `k/${i}`);
  const allowed = (k: string) => model.get(k) ?? new Set([""]);
  const check = async (key: string, where: string) => {
    t.reads++;
    let got: string;
    try {
      got = await readKey(layer, key);
    } catch (e) {
      t.readErrors++;
      if (opts.readsMustWork) throw new Error(`seed ${seed} ${where}: read of ${key} failed: ${e}`);
      return;
    }
    if (!allowed(key).has(got)) {
      t.wrong++;
      assert.fail(`seed ${seed} ${where}: ${key} returned bytes no write of it ever had`);
    }
    // What was read is now the key's one value (a later read must not go back in time).
    if (opts.readsMustWork) model.set(key, new Set([got]));
  };
  for (let step = 0; step < opts.steps; step++) {
    const key = keys[Math.floor(r() * keys.length)]!;
    const roll = r();
    t.ops++;
    if (roll < 0.5) {
      const data = bytes(SIZES[Math.floor(r() * SIZES.length)]!, r);
      const d = digest(data);
      try {
        await layer.putObject("bkt", key, bodyOf(data), {
          size: r() < 0.2 ? -1 : data.length,
          metadata: { user: {} },
        });
        model.set(key, new Set([d]));
      } catch {
        t.failedWrites++;
        model.set(key, new Set([...allowed(key), d]));
      }
    } else if (roll < 0.65) {
      try {
        await layer.deleteObject("bkt", key);
        model.set(key, new Set([""]));
      } catch {
        t.failedWrites++;
        model.set(key, new Set([...allowed(key), ""]));
      }
    } else if (roll < 0.68) {
      const p1 = bytes(5 * MiB, r), p2 = bytes(Math.floor(r() * 200 * KiB), r);
      const whole = new Uint8Array(p1.length + p2.length);
      whole.set(p1);
      whole.set(p2, p1.length);
      const d = digest(whole);
      try {
        const id = await layer.newMultipartUpload("bkt", key, { metadata: { user: {} } });
        const e1 = await layer.putObjectPart("bkt", key, id, 1, bodyOf(p1), { size: p1.length });
        const e2 = await layer.putObjectPart("bkt", key, id, 2, bodyOf(p2), { size: p2.length });
        const parts = [{ partNumber: 1, etag: e1.etag }, { partNumber: 2, etag: e2.etag }];
        model.set(key, new Set([...allowed(key), d])); // the completion is in flight
        await layer.completeMultipartUpload("bkt", key, id, parts, {});
        model.set(key, new Set([d]));
      } catch {
        t.failedWrites++;
      }
    } else {
      await check(key, `step ${step}`);
    }
  }
  for (const key of keys) await check(key, "final");
}

function makeDrives(n: number, seed: number): { inner: MemoryDrive[]; faulty: FaultyDrive[] } {
  const inner = Array.from({ length: n }, (_, i) => new MemoryDrive(`mem://f${i + 1}`));
  const faulty = inner.map((d, i) => new FaultyDrive(d, { seed: seed * 31 + i }));
  return { inner, faulty };
}

const GEOMETRIES = [{ n: 6, m: 2 }, { n: 4, m: 1 }, { n: 6, m: 3 }];
const totals: Tally = {
  seeds: 0,
  ops: 0,
  failedWrites: 0,
  reads: 0,
  readErrors: 0,
  wrong: 0,
  injected: 0,
};
setLogSink(() => {});

for (const { n, m } of GEOMETRIES) {
  Deno.test(`${n} drives EC:${m} with faults on ${m} drives: every read is byte-exact`, async () => {
    for (let s = 0; s < SEEDS; s++) {
      const seed = BASE + s;
      console.log(`faults within parity seed ${seed} (replay with SHALE_SEED=${seed})`);
      const { faulty } = makeDrives(n, seed);
      const layer = await openObjectLayerOn(faulty, { standardParity: m });
      await layer.makeBucket("bkt");
      // Faults go on m drives picked by the seed; the others stay healthy.
      const r = rng(seed);
      const picked = new Set<number>();
      while (picked.size < m) picked.add(Math.floor(r() * n));
      for (const i of picked) faulty[i]!.rates = ALL_FAULTS;
      const model: Model = new Map();
      const t = { ...totals, seeds: 0, ops: 0, failedWrites: 0, reads: 0, readErrors: 0 };
      await workload(layer, seed, model, t, { steps: 60, readsMustWork: true });
      const injected = faulty.reduce((a, d) => a + d.injected, 0);
      totals.seeds++, totals.ops += t.ops, totals.reads += t.reads, totals.injected += injected;
      totals.failedWrites += t.failedWrites;
      await layer.close();
    }
  });
}

Deno.test("with faults on m + 1 drives reads return the right bytes or an error, never others", async () => {
  for (let s = 0; s < SEEDS; s++) {
    const seed = BASE + 1000 + s;
    console.log(`faults beyond parity seed ${seed} (replay with SHALE_SEED=${seed})`);
    const { faulty } = makeDrives(6, seed);
    const layer = await openObjectLayerOn(faulty, { standardParity: 2 });
    await layer.makeBucket("bkt");
    const r = rng(seed);
    const picked = new Set<number>();
    while (picked.size < 3) picked.add(Math.floor(r() * 6));
    for (const i of picked) faulty[i]!.rates = ALL_FAULTS;
    const model: Model = new Map();
    const t = { ...totals };
    t.reads = 0, t.readErrors = 0, t.wrong = 0;
    await workload(layer, seed, model, t, { steps: 60, readsMustWork: false });
    totals.seeds++, totals.reads += t.reads, totals.readErrors += t.readErrors;
    totals.injected += faulty.reduce((a, d) => a + d.injected, 0);
    assert.equal(t.wrong, 0);
    await layer.close();
  }
});

Deno.test("after lost fsyncs on m drives and a power loss every acknowledged object reads back", async () => {
  for (let s = 0; s < SEEDS; s++) {
    const seed = BASE + 2000 + s;
    console.log(`lost fsync seed ${seed} (replay with SHALE_SEED=${seed})`);
    const { inner, faulty } = makeDrives(6, seed);
    const layer = await openObjectLayerOn(faulty, { standardParity: 2 });
    await layer.makeBucket("bkt");
    const r = rng(seed);
    const picked = new Set<number>();
    while (picked.size < 2) picked.add(Math.floor(r() * 6));
    for (const i of picked) faulty[i]!.rates = { lostSync: 0.5 };
    const model: Model = new Map();
    const t = { ...totals };
    await workload(layer, seed, model, t, { steps: 50, readsMustWork: true });
    await layer.close();
    let undone = 0;
    for (const d of faulty) undone += await d.crash();
    totals.injected += undone;
    const again = await openObjectLayerOn(inner, { standardParity: 2 });
    for (const [key, want] of model) {
      const got = await readKey(again, key);
      totals.reads++;
      assert.ok(want.has(got), `seed ${seed}: ${key} after power loss`);
    }
    totals.seeds++;
    await again.close();
  }
});

Deno.test("fault injection totals", () => {
  console.log(`fault injection totals ${JSON.stringify(totals)}`);
});
