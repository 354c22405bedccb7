/**
 * Seeded randomised listing: random keys, then ListObjectsV2 and ListObjects page by page with
 * random prefixes, delimiters and page sizes, compared with a sorted model. Prints its seed;
 * replay with SHALE_LISTING_SEED=<seed>.
 */
import { deepEqual, equal } from "node:assert/strict";
import {
  CreateBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { startServer } from "./_server.ts";
import { clientFor } from "./_s3.ts";

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** What S3 lists for one prefix/delimiter: sorted keys, groups folded into common prefixes. */
function model(keys: string[], prefix: string, delimiter: string): string[] {
  const out: string[] = [];
  for (const k of [...keys].sort(byBytes)) {
    if (!k.startsWith(prefix)) continue;
    const i = delimiter === "" ? -1 : k.indexOf(delimiter, prefix.length);
    const entry = i < 0 ? k : k.slice(0, i + delimiter.length);
    if (out.at(-1) !== entry) out.push(entry);
  }
  return out;
}

function byBytes(a: string, b: string): number {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
    if (ea[i] !== eb[i]) return ea[i]! - eb[i]!;
  }
  return ea.length - eb.length;
}

Deno.test({
  name: "listings page through random keys exactly as a sorted model says",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const seed = Number(Deno.env.get("SHALE_LISTING_SEED") ?? Date.now() % 1_000_000);
    console.log(`listing seed: ${seed} (replay with SHALE_LISTING_SEED=${seed})`);
    const rand = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const s = await startServer({ drives: 4 });
    const s3 = clientFor(s);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "random-listing" }));
      const parts = ["a", "b", "ab", "é", "z z", "-", "0"];
      const keys = new Set<string>();
      while (keys.size < 150) {
        const depth = 1 + Math.floor(rand() * 3);
        keys.add(Array.from({ length: depth }, () => pick(parts)).join(pick(["/", "/", "."])));
      }
      const all = [...keys];
      for (let i = 0; i < all.length; i += 16) {
        await Promise.all(
          all.slice(i, i + 16).map((Key) =>
            s3.send(new PutObjectCommand({ Bucket: "random-listing", Key, Body: Key }))
          ),
        );
      }
      for (let round = 0; round < 12; round++) {
        const prefix = pick(["", "a", "a/", "b/", "é", "z z/", "ab"]);
        const delimiter = pick(["", "/", "."]);
        const maxKeys = 1 + Math.floor(rand() * 40);
        const want = model(all, prefix, delimiter);
        const v2: string[] = [];
        let token: string | undefined;
        do {
          const page = await s3.send(
            new ListObjectsV2Command({
              Bucket: "random-listing",
              Prefix: prefix,
              Delimiter: delimiter || undefined,
              MaxKeys: maxKeys,
              ContinuationToken: token,
            }),
          );
          const entries = [
            ...(page.Contents ?? []).map((c) => c.Key!),
            ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
          ].sort(byBytes);
          equal(entries.length <= maxKeys, true);
          equal(page.KeyCount, entries.length);
          v2.push(...entries);
          token = page.NextContinuationToken;
        } while (token !== undefined);
        deepEqual(v2, want, `v2 prefix=${prefix} delimiter=${delimiter} max=${maxKeys}`);
        const v1: string[] = [];
        let marker: string | undefined;
        for (;;) {
          const page = await s3.send(
            new ListObjectsCommand({
              Bucket: "random-listing",
              Prefix: prefix,
              Delimiter: delimiter || undefined,
              MaxKeys: maxKeys,
              Marker: marker,
            }),
          );
          const entries = [
            ...(page.Contents ?? []).map((c) => c.Key!),
            ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
          ].sort(byBytes);
          v1.push(...entries);
          if (!page.IsTruncated) break;
          // Without a delimiter AWS sends no NextMarker: clients continue from the last key.
          marker = page.NextMarker ?? entries.at(-1);
        }
        deepEqual(v1, want, `v1 prefix=${prefix} delimiter=${delimiter} max=${maxKeys}`);
      }
    } finally {
      s3.destroy();
      equal(await s.stop(), 0);
    }
  },
});
