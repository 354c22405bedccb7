import assert from "node:assert/strict";
import { partLayout, shardFileBytes } from "./bitrot.ts";
import { PartDecoder, type ShardSource } from "./decode.ts";
import { encodeStream, InsufficientShards, type ShardSink } from "./encode.ts";
import { defaultParity, distributionFor, geometry, setSizeFor } from "./geometry.ts";

const SEED = Number(Deno.env.get("SHALE_SEED") ?? Date.now() % 1_000_000);
console.log(`erasure_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

class MemSink implements ShardSink {
  chunks: Uint8Array[] = [];
  fail = false;
  write(c: Uint8Array): Promise<void> {
    if (this.fail) return Promise.reject(new Error("injected"));
    this.chunks.push(c.slice());
    return Promise.resolve();
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of this.chunks) out.set(c, (o += c.length) - c.length);
    return out;
  }
}
/** A shard file in memory; with `into`, also readable in place (as FileReader.readInto). */
const source = (b: Uint8Array, into = false): ShardSource => ({
  readAt: (o, n) => Promise.resolve(b.slice(o, o + n)),
  ...(into
    ? {
      readInto: (o: number, t: Uint8Array) => {
        const bytes = b.subarray(o, o + t.length);
        t.set(bytes);
        return Promise.resolve(bytes.length);
      },
    }
    : {}),
});
async function* chunked(data: Uint8Array, size: number) {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, o + size);
}

Deno.test("set size and parity follow MinIO's table", () => {
  assert.deepEqual([1, 2, 3, 4, 6, 8, 12, 16, 17, 32, 18].map(setSizeFor), [
    1,
    2,
    3,
    4,
    6,
    8,
    12,
    16,
    undefined,
    16,
    9,
  ]);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 16].map(defaultParity), [0, 1, 1, 2, 2, 3, 3, 4, 4]);
  assert.deepEqual(geometry(4, 2), { n: 4, k: 2, m: 2, readQuorum: 2, writeQuorum: 3 });
  assert.deepEqual(geometry(6, 2), { n: 6, k: 4, m: 2, readQuorum: 4, writeQuorum: 4 });
  const d = distributionFor("b", "k", 6);
  assert.deepEqual([...d].sort(), [1, 2, 3, 4, 5, 6]);
});

Deno.test("encoded parts decode byte-exact with any m shards missing or corrupt", async () => {
  const rand = rng(SEED);
  for (const [k, m] of [[2, 2], [4, 2], [3, 3], [1, 0], [5, 1]] as const) {
    for (const size of [1, 1000, 64 * 1024 + 3, 3 * 65536]) {
      const blockBytes = 65536;
      const data = new Uint8Array(size).map(() => (rand() * 256) | 0);
      const sinks = Array.from({ length: k + m }, () => new MemSink());
      const res = await encodeStream(chunked(data, 7777), {
        k,
        m,
        blockBytes,
        sinks,
        writeQuorum: k,
      });
      assert.equal(res.size, size);
      const layout = partLayout(size, blockBytes, k);
      const files = sinks.map((s) => s.bytes());
      for (const f of files) assert.equal(f.length, shardFileBytes(layout));
      // Lose up to m shards: some missing, some with a flipped byte.
      const lost = new Set<number>();
      while (lost.size < m) lost.add((rand() * (k + m)) | 0);
      // Half the sources read in place, so both read paths (and mixes) decode.
      const sources = files.map((f, i) => {
        const into = rand() < 0.5;
        if (!lost.has(i)) return source(f, into);
        if (rand() < 0.5) return undefined;
        const bad = f.slice();
        const at = (rand() * bad.length) | 0;
        bad[at] = bad[at]! ^ 0x40;
        return source(bad, into);
      });
      const dec = new PartDecoder({ k, m, layout, sources });
      const out = new Uint8Array(size);
      for (let b = 0; b < layout.blocks; b++) out.set(await dec.readBlock(b), b * blockBytes);
      assert.deepEqual(out, data, `k=${k} m=${m} size=${size} lost=${[...lost]}`);
    }
  }
});

Deno.test("decoding refuses when more than m shards are corrupt instead of returning bad bytes", async () => {
  const data = new Uint8Array(5000).fill(7);
  const sinks = Array.from({ length: 4 }, () => new MemSink());
  await encodeStream(chunked(data, 5000), { k: 2, m: 2, blockBytes: 4096, sinks, writeQuorum: 3 });
  const files = sinks.map((s) => s.bytes());
  const sources = files.map((f, i) => {
    if (i === 3) return source(f);
    const bad = f.slice();
    bad[8 + 40] = bad[8 + 40]! ^ 1; // block 0 of shards 0, 1, 2
    return source(bad, i === 0);
  });
  const dec = new PartDecoder({ k: 2, m: 2, layout: partLayout(5000, 4096, 2), sources });
  await assert.rejects(() => dec.readBlock(0), (e) => e instanceof InsufficientShards && e.bitrot);
  assert.deepEqual(await dec.readBlock(1), data.subarray(4096));
});

Deno.test("a shard whose hash read fails leaves no read in flight into the block", async () => {
  // Shard 0's header read fails at once while its data read lands 20 ms later. The block is
  // rebuilt from parity into the same buffer, so the late read must be waited for first.
  const data = new Uint8Array(5000).map((_, i) => i * 13);
  const sinks = Array.from({ length: 4 }, () => new MemSink());
  await encodeStream(chunked(data, 5000), { k: 2, m: 2, blockBytes: 8192, sinks, writeQuorum: 3 });
  const files = sinks.map((s) => s.bytes());
  const late: ShardSource = {
    readAt: () => Promise.reject(new Error("unreadable")),
    readInto: async (_o, into) => {
      if (into.length <= 40) throw new Error("unreadable");
      await new Promise((r) => setTimeout(r, 20));
      into.fill(0xaa);
      return into.length;
    },
  };
  const sources = files.map((f, i) => i === 0 ? late : source(f, true));
  const dec = new PartDecoder({ k: 2, m: 2, layout: partLayout(5000, 8192, 2), sources });
  const block = await dec.readBlock(0);
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(block, data);
});

Deno.test("a write fails with InsufficientShards when sinks drop below the write quorum", async () => {
  const sinks = Array.from({ length: 4 }, () => new MemSink());
  sinks[0]!.fail = true;
  const failed: number[] = [];
  const ok = await encodeStream(chunked(new Uint8Array(100), 10), {
    k: 2,
    m: 2,
    blockBytes: 64,
    sinks,
    writeQuorum: 3,
    onSinkFailed: (i) => failed.push(i),
  });
  assert.deepEqual(ok.alive, [false, true, true, true]);
  assert.deepEqual(failed, [0]);
  sinks[1]!.fail = true;
  await assert.rejects(
    () =>
      encodeStream(chunked(new Uint8Array(100), 10), {
        k: 2,
        m: 2,
        blockBytes: 64,
        sinks,
        writeQuorum: 3,
      }),
    InsufficientShards,
  );
});
