/**
 * `deno bench -A src/wasm/`: the WebAssembly core alone, on shard sets in WASM memory (zero copy)
 * and on plain JS buffers (copied through staging). bench/core/run.ts compares with native Go.
 */
import { createReedSolomon, HighwayHash, highwayHash256, wasmVariant } from "./mod.ts";

const MiB = 1 << 20;

function fillRandom(u: Uint8Array): void {
  for (let off = 0; off < u.length; off += 65536) {
    crypto.getRandomValues(u.subarray(off, Math.min(u.length, off + 65536)));
  }
}

for (const [k, m] of [[4, 2], [8, 4], [12, 4]] as const) {
  const rs = createReedSolomon(k, m);
  const set = rs.allocShards(rs.shardSize(MiB));
  set.shards.slice(0, k).forEach(fillRandom);
  const inJs = set.shards.map((s) => s.slice());
  Deno.bench(`encode ${k}+${m} 1MiB (${wasmVariant()}, WASM memory)`, {
    group: `encode ${k}+${m}`,
    baseline: true,
    n: 200,
  }, () => rs.encode(set.shards)); // re-read: a later allocShards() may have grown memory
  Deno.bench(`encode ${k}+${m} 1MiB (${wasmVariant()}, JS buffers)`, {
    group: `encode ${k}+${m}`,
    n: 200,
  }, () => rs.encode(inJs));
  if (k > 4) {
    const present = inJs.map((_, i) => i >= 2);
    Deno.bench(
      `reconstruct 2 data shards ${k}+${m} 1MiB (${wasmVariant()}, WASM memory)`,
      { n: 200 },
      () => rs.reconstruct(set.shards, present, { dataOnly: true }),
    );
  }
}

{
  const key = new Uint8Array(32);
  const set = createReedSolomon(1, 0).allocShards(MiB);
  fillRandom(set.shards[0]!);
  const js = set.shards[0]!.slice();
  Deno.bench("highwayhash256 1MiB one-shot (WASM memory)", { group: "hh", baseline: true }, () => {
    highwayHash256(key, set.shards[0]!);
  });
  Deno.bench("highwayhash256 1MiB one-shot (JS buffer)", { group: "hh" }, () => {
    highwayHash256(key, js);
  });
  Deno.bench("highwayhash256 1MiB streamed in 64KiB writes (JS buffer)", { group: "hh" }, () => {
    const h = new HighwayHash(key, 256);
    for (let off = 0; off < js.length; off += 65536) h.update(js.subarray(off, off + 65536));
    h.digest();
  });
}
