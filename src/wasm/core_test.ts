import assert from "node:assert/strict";
import {
  availableVariants,
  createReedSolomon,
  HighwayHash,
  highwayHash128,
  highwayHash256,
  highwayHash64,
  loadVariant,
  type ReedSolomon,
  type WasmCore,
  wasmVariant,
} from "./mod.ts";
import { buildEncodingMatrix } from "./_gf.ts";

const TESTDATA = new URL("../../tests/testdata/", import.meta.url);

interface RsCase {
  data: number;
  parity: number;
  shardSize: number;
  shards: string;
  erasures: number[];
  matrix?: string;
}
interface HhCase {
  key: string;
  data: string;
  h64: string;
  h128: string;
  h256: string;
}

const rsCases = (JSON.parse(Deno.readTextFileSync(new URL("rs_vectors.json", TESTDATA))) as {
  cases: RsCase[];
}).cases;
const hhCases = (JSON.parse(Deno.readTextFileSync(new URL("hh_vectors.json", TESTDATA))) as {
  cases: HhCase[];
}).cases;

function b64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
function hex(u: Uint8Array): string {
  return Array.from(u, (b) => b.toString(16).padStart(2, "0")).join("");
}
function fromHex(s: string): Uint8Array {
  return new Uint8Array((s.match(/../g) ?? []).map((h) => parseInt(h, 16)));
}

/** Splits a vector's concatenated shards. */
function splitShards(c: RsCase): Uint8Array[] {
  const all = b64(c.shards);
  return Array.from(
    { length: c.data + c.parity },
    (_, i) => all.slice(i * c.shardSize, (i + 1) * c.shardSize),
  );
}

/** Seeded PRNG (mulberry32): property tests print the seed; SHALE_SEED replays one. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function seedFor(name: string): number {
  const env = Deno.env.get("SHALE_SEED");
  const seed = env !== undefined ? Number(env) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: seed ${seed} (replay with SHALE_SEED=${seed})`);
  return seed;
}
function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}
function randBytes(r: () => number, n: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(n / 4));
  for (let i = 0; i < words.length; i++) words[i] = r() * 4294967296;
  return new Uint8Array(words.buffer, 0, n);
}
/** Asserts equal bytes, naming the first difference (cheaper than comparing hex of megabytes). */
function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: byte ${i} is ${a[i]}, want ${b[i]}`);
  }
}
function pickErasures(r: () => number, total: number, count: number): number[] {
  const idx = Array.from({ length: total }, (_, i) => i);
  for (let i = total - 1; i > 0; i--) {
    const j = randInt(r, 0, i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, count);
}

const variants = availableVariants();
const cores: WasmCore[] = variants.map((v) => loadVariant(v));

Deno.test("the best build this runtime validates is the one loaded, and relaxed SIMD validates in Deno 2.9", () => {
  assert.equal(wasmVariant(), variants[0]);
  assert.deepEqual(variants, ["relaxed-simd", "simd128", "scalar"]);
});

Deno.test("the encoding matrix equals klauspost/reedsolomon's default matrix", () => {
  let checked = 0;
  for (const c of rsCases) {
    if (c.matrix === undefined) continue;
    const m = buildEncodingMatrix(c.data, c.data + c.parity);
    assert.equal(hex(m.data), c.matrix, `${c.data}+${c.parity}`);
    checked++;
  }
  assert.ok(checked >= 10);
});

for (const core of cores) {
  Deno.test(`${core.variant}: parity equals klauspost/reedsolomon's for every vector, in JS buffers and in WASM shard sets`, () => {
    for (const c of rsCases) {
      const want = splitShards(c);
      const rs = core.createReedSolomon(c.data, c.parity);
      const shards = want.map((s, i) => (i < c.data ? s.slice() : new Uint8Array(c.shardSize)));
      rs.encode(shards);
      shards.forEach((s, i) => sameBytes(s, want[i]!, `${c.data}+${c.parity} shard ${i}`));
      assert.equal(rs.verify(shards), true);

      const set = rs.allocShards(c.shardSize);
      const views = set.shards;
      for (let i = 0; i < c.data; i++) views[i]!.set(want[i]!);
      rs.encode(views);
      views.forEach((s, i) => sameBytes(s, want[i]!, `in-memory shard ${i}`));
      assert.equal(rs.verify(views), true);
      if (c.parity > 0) {
        views[c.data + c.parity - 1]![c.shardSize - 1]! ^= 1;
        assert.equal(rs.verify(views), false);
        shards[0]![0]! ^= 0x80;
        assert.equal(rs.verify(shards), false);
      }
      set.release();
    }
  });

  Deno.test(`${core.variant}: reconstruction restores the vectors' erased shards, all or data only`, () => {
    for (const c of rsCases) {
      const want = splitShards(c);
      const rs = core.createReedSolomon(c.data, c.parity);
      const present = want.map((_, i) => !c.erasures.includes(i));
      const shards = want.map((
        s,
        i,
      ) => (present[i] ? s.slice() : new Uint8Array(c.shardSize).fill(0xa5)));
      rs.reconstruct(shards, present);
      shards.forEach((s, i) => sameBytes(s, want[i]!, `${c.data}+${c.parity} shard ${i}`));

      const partial = want.map((
        s,
        i,
      ) => (present[i] ? s.slice() : new Uint8Array(c.shardSize).fill(0xa5)));
      rs.reconstruct(partial, present, { dataOnly: true });
      partial.forEach((s, i) => {
        if (i < c.data || present[i]) sameBytes(s, want[i]!, `data-only shard ${i}`);
        else assert.ok(s.every((b) => b === 0xa5), `parity shard ${i} is left alone`);
      });
    }
  });

  Deno.test(`${core.variant}: HighwayHash-64/128/256 equal minio/highwayhash's, one-shot and streamed in random pieces`, () => {
    const seed = seedFor(`${core.variant} HighwayHash streaming`);
    const r = rng(seed);
    for (const c of hhCases) {
      const key = fromHex(c.key);
      const data = b64(c.data);
      assert.equal(hex(core.highwayHash64(key, data)), c.h64, `64 over ${data.length}`);
      assert.equal(hex(core.highwayHash128(key, data)), c.h128, `128 over ${data.length}`);
      assert.equal(hex(core.highwayHash256(key, data)), c.h256, `256 over ${data.length}`);
      for (const [bits, want] of [[64, c.h64], [128, c.h128], [256, c.h256]] as const) {
        const h = new HighwayHash(key, bits, core);
        let off = 0;
        while (off < data.length) {
          const n = Math.min(data.length - off, randInt(r, 0, r() < 0.5 ? 40 : 70000));
          h.update(data.subarray(off, off + n));
          off += n;
        }
        assert.equal(hex(h.digest()), want, `streamed ${bits} over ${data.length}`);
      }
    }
  });
}

Deno.test("the module-level HighwayHash functions and class use the loaded build and match the vectors", () => {
  const c = hhCases[hhCases.length - 1]!;
  const key = fromHex(c.key);
  const data = b64(c.data);
  assert.equal(hex(highwayHash64(key, data)), c.h64);
  assert.equal(hex(highwayHash128(key, data)), c.h128);
  assert.equal(hex(highwayHash256(key, data)), c.h256);
  const h = new HighwayHash(key, 256);
  assert.equal(h.update(data.subarray(0, 100)).update(data.subarray(100)), h);
  assert.equal(hex(h.digest()), c.h256);
  // digest() does not end the stream.
  assert.equal(hex(h.digest()), c.h256);
});

Deno.test("seeded property test: random geometry, data and erasures reconstruct the original shards", () => {
  const seed = seedFor("reed-solomon property");
  const r = rng(seed);
  for (let iter = 0; iter < 150; iter++) {
    const k = iter % 10 === 0 ? randInt(r, 1, 200) : randInt(r, 1, 20);
    const m = randInt(r, 0, Math.min(256 - k, iter % 10 === 0 ? 56 : 10));
    const size = randInt(r, 0, iter % 5 === 0 ? 5000 : 300);
    const rs = createReedSolomon(k, m);
    const shards = Array.from(
      { length: k + m },
      (_, i) => (i < k ? randBytes(r, size) : new Uint8Array(size)),
    );
    rs.encode(shards);
    assert.equal(rs.verify(shards), true, `seed ${seed} iter ${iter} ${k}+${m} x ${size}`);
    const want = shards.map((s) => s.slice());
    const lost = pickErasures(r, k + m, randInt(r, 0, m));
    const present = shards.map((_, i) => !lost.includes(i));
    for (const i of lost) shards[i]!.set(randBytes(r, size));
    const useSet = r() < 0.5;
    if (useSet) {
      const set = rs.allocShards(size);
      const views = set.shards;
      views.forEach((v, i) => v.set(shards[i]!));
      rs.reconstruct(views, present);
      views.forEach((v, i) => sameBytes(v, want[i]!, `seed ${seed} iter ${iter} shard ${i}`));
      set.release();
    } else {
      rs.reconstruct(shards, present);
      shards.forEach((v, i) => sameBytes(v, want[i]!, `seed ${seed} iter ${iter} shard ${i}`));
    }
  }
});

Deno.test("every SIMD build equals the scalar build on random odd sizes, in place and through staging", () => {
  const seed = seedFor("variants equal scalar");
  const r = rng(seed);
  const scalar = loadVariant("scalar");
  for (const core of cores) {
    if (core.variant === "scalar") continue;
    for (let iter = 0; iter < 40; iter++) {
      const k = randInt(r, 1, iter % 4 === 0 ? 100 : 16);
      const m = randInt(r, 0, iter % 3 === 0 ? 20 : 6);
      // Odd sizes, some past the staging chunk so the copying path takes several chunks.
      const size = randInt(r, 0, iter % 8 === 0 ? 150_000 : 3000) | 1;
      const a = core.createReedSolomon(k, m);
      const b = scalar.createReedSolomon(k, m);
      const data = Array.from({ length: k }, () => randBytes(r, size));
      const sa = a.allocShards(size);
      const va = sa.shards;
      data.forEach((d, i) => va[i]!.set(d));
      a.encode(va);
      const vb = [
        ...data.map((d) => d.slice()),
        ...Array.from({ length: m }, () => new Uint8Array(size)),
      ];
      b.encode(vb);
      for (let i = k; i < k + m; i++) {
        sameBytes(va[i]!, vb[i]!, `seed ${seed} ${core.variant} ${k}+${m} x ${size} shard ${i}`);
      }
      const lost = pickErasures(r, k + m, m);
      const present = va.map((_, i) => !lost.includes(i));
      for (const i of lost) {
        va[i]!.fill(0);
        vb[i]!.fill(0xff);
      }
      a.reconstruct(va, present);
      b.reconstruct(vb, present);
      va.forEach((v, i) => sameBytes(v, vb[i]!, `seed ${seed} reconstruct shard ${i}`));
      sa.release();
      const key = randBytes(r, 32);
      const msg = randBytes(r, randInt(r, 0, 5000) | 1);
      assert.equal(hex(core.highwayHash256(key, msg)), hex(scalar.highwayHash256(key, msg)));
      assert.equal(hex(core.highwayHash64(key, msg)), hex(scalar.highwayHash64(key, msg)));
    }
  }
});

Deno.test("every input count and output group of the SIMD kernels equals the scalar build", () => {
  // k = 1..17 covers each fixed-input kernel (up to 16 inputs) and the general one; m = 1..9
  // covers groups of 1 to 4 outputs and the cache-blocked strips past 4. The size leaves a tail
  // after the whole steps.
  const r = rng(seedFor("kernels equal scalar"));
  const scalar = loadVariant("scalar");
  for (const core of cores) {
    if (core.variant === "scalar") continue;
    for (let k = 1; k <= 17; k++) {
      for (let m = 1; m <= 9; m++) {
        const size = 16 * 8 * 3 + 2 * k + 1;
        const data = Array.from({ length: k }, () => randBytes(r, size));
        const got = [...data, ...Array.from({ length: m }, () => new Uint8Array(size))];
        const want = got.map((s) => s.slice());
        core.createReedSolomon(k, m).encode(got);
        scalar.createReedSolomon(k, m).encode(want);
        for (let i = k; i < k + m; i++) {
          sameBytes(got[i]!, want[i]!, `${core.variant} ${k}+${m} shard ${i}`);
        }
      }
    }
  }
});

Deno.test("geometry up to 256 shards works and m = 0 encodes nothing and verifies", () => {
  const big = createReedSolomon(128, 128);
  assert.equal(big.totalShards, 256);
  const one = createReedSolomon(255, 1);
  const shards = Array.from({ length: 256 }, (_, i) => new Uint8Array(3).fill(i));
  one.encode(shards);
  assert.equal(one.verify(shards), true);
  const none = createReedSolomon(4, 0);
  const d = Array.from({ length: 4 }, (_, i) => new Uint8Array(5).fill(i));
  none.encode(d);
  assert.equal(none.verify(d), true);
  none.reconstruct(d, [true, true, true, true]);
  assert.throws(() => none.reconstruct(d, [true, false, true, true]), RangeError);
});

Deno.test("shard size is the block size divided by k, rounded up, as MinIO's ShardSize", () => {
  const rs = createReedSolomon(12, 4);
  assert.equal(rs.shardSize(1 << 20), 87382);
  assert.equal(rs.shardSize(0), 0);
  assert.equal(rs.shardSize(12), 1);
  assert.equal(rs.shardSize(13), 2);
  assert.throws(() => rs.shardSize(-1), RangeError);
});

Deno.test("misuse throws RangeError or TypeError and never writes wrong bytes", () => {
  assert.throws(() => createReedSolomon(0, 2), RangeError);
  assert.throws(() => createReedSolomon(2, -1), RangeError);
  assert.throws(() => createReedSolomon(200, 57), RangeError);
  assert.throws(() => createReedSolomon(1.5, 1), TypeError);
  const rs = createReedSolomon(4, 2);
  const ok = () => Array.from({ length: 6 }, () => new Uint8Array(10));
  assert.throws(() => rs.encode(ok().slice(1)), RangeError);
  const unequal = ok();
  unequal[3] = new Uint8Array(11);
  assert.throws(() => rs.encode(unequal), RangeError);
  const notBytes = ok() as unknown[];
  notBytes[2] = [1, 2, 3];
  assert.throws(() => rs.encode(notBytes as Uint8Array[]), TypeError);
  const shared = new Uint8Array(60);
  const overlapping = Array.from({ length: 6 }, (_, i) => shared.subarray(i * 9, i * 9 + 10));
  assert.throws(() => rs.encode(overlapping), TypeError);
  const same = ok();
  same[5] = same[0]!;
  assert.throws(() => rs.encode(same), TypeError);
  const s = ok();
  assert.throws(() => rs.reconstruct(s, [true, true, true, false, false, false]), RangeError);
  assert.throws(() => rs.reconstruct(s, [true, true]), RangeError);
  assert.throws(() => rs.allocShards(-1), RangeError);
  assert.throws(() => highwayHash256(new Uint8Array(31), new Uint8Array(1)), RangeError);
  assert.throws(() => highwayHash64(new Uint8Array(33), new Uint8Array(1)), RangeError);
  assert.throws(() => new HighwayHash(new Uint8Array(32), 32 as 64), RangeError);
  assert.throws(() => highwayHash128("k" as unknown as Uint8Array, new Uint8Array(1)), TypeError);
  assert.throws(() => loadVariant("avx" as "scalar"), TypeError);
  // Views hand-made over the core's own memory below the shard heap are refused.
  const set = rs.allocShards(10);
  const forged = set.shards.map((v, i) => new Uint8Array(v.buffer, 64 + i * 16, 10));
  assert.throws(() => rs.encode(forged), TypeError);
  set.release();
});

function encodeAndCheck(rs: ReedSolomon, views: Uint8Array[]): void {
  for (let i = 0; i < rs.dataShards; i++) views[i]!.fill(i + 1);
  rs.encode(views);
  assert.equal(rs.verify(views), true);
}

Deno.test("shard sets are zeroed, reused after release, refreshed after memory grows, and unusable once released", () => {
  const core = loadVariant("simd128");
  const rs = core.createReedSolomon(8, 4);
  const a = rs.allocShards(1000);
  const before = a.shards;
  encodeAndCheck(rs, before);
  a.release();
  assert.throws(() => a.shards, TypeError);
  assert.throws(() => a.release(), TypeError);
  // The same memory comes back, zeroed.
  const b = rs.allocShards(1000);
  assert.ok(b.shards.every((s) => s.every((x) => x === 0)));
  encodeAndCheck(rs, b.shards);
  const parity = hex(b.shards[11]!);
  // A large set grows memory: old views detach, `.shards` gives fresh ones over the same bytes.
  const old = b.shards;
  const big = rs.allocShards(8 << 20);
  assert.throws(() => rs.encode(old), TypeError);
  assert.equal(hex(b.shards[11]!), parity);
  assert.equal(rs.verify(b.shards), true);
  big.release();
  // Repeated alloc/release of the same size does not grow memory further.
  for (let i = 0; i < 50; i++) rs.allocShards(1 << 20).release();
  const c = rs.allocShards(1 << 20);
  const buf = c.shards[0]!.buffer;
  c.release();
  for (let i = 0; i < 50; i++) rs.allocShards(1 << 20).release();
  const d = rs.allocShards(0);
  assert.equal(d.shards[0]!.buffer, buf);
  d.release();
  b.release();
});

Deno.test("hashing data that lives in WASM memory gives the same digest as a copy in a JS buffer", () => {
  const seed = seedFor("hash in place");
  const r = rng(seed);
  for (const core of cores) {
    const set = core.createReedSolomon(1, 0).allocShards(200_003);
    const view = set.shards[0]!;
    view.set(randBytes(r, view.length));
    const copy = view.slice();
    const key = randBytes(r, 32);
    for (const n of [0, 31, 32, 33, 65_536, 200_003]) {
      const a = view.subarray(0, n);
      const b = copy.subarray(0, n);
      assert.equal(hex(core.highwayHash256(key, a)), hex(core.highwayHash256(key, b)));
      const s = core.newHighwayHash(key, 128);
      s.update(a.subarray(0, n >> 1));
      s.update(a.subarray(n >> 1));
      assert.equal(hex(s.digest()), hex(core.highwayHash128(key, b)), `${core.variant} ${n}`);
    }
    set.release();
  }
});

Deno.test("verify through staging finds a flipped byte in the last column chunk of large JS shards", () => {
  const rs = createReedSolomon(6, 3);
  const size = 400_001; // several staging chunks of 1 MiB / 9
  const shards = Array.from({ length: 9 }, (_, i) => new Uint8Array(size).fill(i * 37 + 1));
  rs.encode(shards);
  assert.equal(rs.verify(shards), true);
  shards[7]![size - 1]! ^= 4;
  assert.equal(rs.verify(shards), false);
  shards[7]![size - 1]! ^= 4;
  shards[2]![size - 2]! ^= 4;
  assert.equal(rs.verify(shards), false);
});

Deno.test("seeded property test: shard sets of random sizes never overlap and keep their bytes while others come and go", () => {
  const seed = seedFor("shard set pool");
  const r = rng(seed);
  const core = loadVariant("scalar");
  const rs = core.createReedSolomon(3, 2);
  const live: Array<{ set: ReturnType<ReedSolomon["allocShards"]>; tag: number }> = [];
  for (let iter = 0; iter < 300; iter++) {
    if (live.length > 0 && r() < 0.45) {
      const [gone] = live.splice(randInt(r, 0, live.length - 1), 1);
      gone!.set.release();
      continue;
    }
    const set = rs.allocShards(randInt(r, 0, r() < 0.1 ? 300_000 : 5000));
    const tag = iter & 0xff;
    set.shards.forEach((s, i) => {
      assert.ok(s.every((b) => b === 0), `seed ${seed}: a new set is zeroed`);
      s.fill((tag + i) & 0xff);
    });
    live.push({ set, tag });
    for (const { set: other, tag: t } of live) {
      other.shards.forEach((s, i) => {
        if (s.length > 0 && (s[0] !== ((t + i) & 0xff) || s[s.length - 1] !== ((t + i) & 0xff))) {
          assert.fail(`seed ${seed} iter ${iter}: a live set lost its bytes`);
        }
      });
    }
  }
  for (const { set } of live) set.release();
});

Deno.test("allocShards past the memory cap throws RangeError and leaves memory usable", () => {
  const rs = loadVariant("scalar").createReedSolomon(1, 1);
  assert.throws(() => rs.allocShards(600 * 1024 * 1024), RangeError);
  const set = rs.allocShards(10);
  set.shards[0]!.fill(7);
  rs.encode(set.shards);
  assert.equal(set.shards[1]![9], 7);
  set.release();
});
