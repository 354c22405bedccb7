/**
 * Put and get of 64 MiB through the object layer on temp dirs (4 drives EC:2 and 6 drives EC:3).
 * `deno bench -A src/object/object_layer_bench.ts`; MB/s per case is printed at the end.
 */
import { openObjectLayer } from "./object_layer.ts";
import type { ObjectLayer } from "./types.ts";

const SIZE = 64 * 1024 * 1024;
const data = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 4096) crypto.getRandomValues(data.subarray(i, i + 4096));

function bodyOf(bytes: Uint8Array, chunk = 256 * 1024): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.subarray(off, off + chunk));
      off += chunk;
    },
  }, { highWaterMark: 0 });
}

const totals = new Map<string, { bytes: number; ms: number }>();
function record(name: string, ms: number): void {
  const t = totals.get(name) ?? { bytes: 0, ms: 0 };
  t.bytes += SIZE;
  t.ms += ms;
  totals.set(name, t);
}
globalThis.addEventListener("unload", () => {
  for (const [name, t] of totals) {
    console.log(`${name}: ${(t.bytes / 1e6 / (t.ms / 1000)).toFixed(1)} MB/s`);
  }
});

const layers = new Map<number, { layer: ObjectLayer; root: string }>();
async function layerFor(n: number): Promise<ObjectLayer> {
  let l = layers.get(n);
  if (l === undefined) {
    const root = await Deno.makeTempDir({ prefix: "shale-bench-" });
    const layer = await openObjectLayer({
      drives: Array.from({ length: n }, (_, i) => `${root}/d${i + 1}`),
    });
    await layer.makeBucket("bench");
    await layer.putObject("bench", "obj", bodyOf(data), { size: SIZE, metadata: { user: {} } });
    layers.set(n, l = { layer, root });
  }
  return l.layer;
}

for (const n of [4, 6]) {
  Deno.bench(`put 64MiB ${n} drives`, { group: `put ${n}`, n: 5, warmup: 1 }, async () => {
    const layer = await layerFor(n);
    const t = performance.now();
    await layer.putObject("bench", "obj", bodyOf(data), { size: SIZE, metadata: { user: {} } });
    record(`put 64MiB ${n} drives`, performance.now() - t);
  });
  Deno.bench(`get 64MiB ${n} drives`, { group: `get ${n}`, n: 5, warmup: 1 }, async () => {
    const layer = await layerFor(n);
    const t = performance.now();
    const r = await layer.openObject("bench", "obj");
    const reader = r.stream(0, SIZE).getReader();
    let got = 0;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.length;
    }
    if (got !== SIZE) throw new Error(`Read ${got} bytes`);
    record(`get 64MiB ${n} drives`, performance.now() - t);
  });
}

globalThis.addEventListener("unload", () => {
  for (const { root } of layers.values()) Deno.removeSync(root, { recursive: true });
});
