import { partLayout } from "./bitrot.ts";
import { PartDecoder } from "./decode.ts";
import { BlockEncoder } from "./encode.ts";

const MiB = 1024 * 1024;
const block = crypto.getRandomValues(new Uint8Array(65536));
const big = new Uint8Array(MiB);
for (let i = 0; i < MiB; i += 65536) big.set(block, i);

for (const [k, m] of [[2, 2], [4, 2], [3, 3], [12, 4]] as const) {
  const enc = new BlockEncoder(k, m, MiB);
  Deno.bench(`encode+hash ${k}+${m} 1MiB`, { group: "encode" }, () => {
    enc.encode(big);
  });
  const frames = enc.encode(big).map((f) =>
    new Uint8Array([0x53, 0x48, 0x4c, 0x53, 0, 1, 0, 0, ...f])
  );
  const layout = partLayout(MiB, MiB, k);
  const sources = frames.map((f) => ({
    readAt: (o: number, n: number) => Promise.resolve(f.subarray(o, o + n)),
  }));
  Deno.bench(`verify+decode ${k}+${m} 1MiB`, { group: "decode" }, async () => {
    await new PartDecoder({ k, m, layout, sources }).readBlock(0);
  });
  const missing = sources.map((s, i) => (i < m ? undefined : s));
  Deno.bench(`verify+reconstruct ${m} lost ${k}+${m} 1MiB`, { group: "reconstruct" }, async () => {
    await new PartDecoder({ k, m, layout, sources: missing }).readBlock(0);
  });
}
