import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MD5_OFFLOAD_BATCH_BYTES, MD5_OFFLOAD_INFLIGHT_BYTES_MAX } from "../config/limits.ts";
import { Md5Offload } from "./md5_offload.ts";
import { rng, SEED } from "./_testing.ts";

const md5 = (b: Uint8Array) => new Uint8Array(createHash("md5").update(b).digest());

Deno.test("offloaded MD5 equals node:crypto's for many bodies at once, in random chunks", async () => {
  console.log(`md5 offload seed ${SEED} (replay with SHALE_SEED=${SEED})`);
  const r = rng(SEED);
  const off = new Md5Offload();
  try {
    const sizes = [
      0,
      1,
      MD5_OFFLOAD_BATCH_BYTES - 1,
      MD5_OFFLOAD_BATCH_BYTES,
      3_500_000,
      20_000_000,
    ];
    await Promise.all(sizes.map(async (size) => {
      const body = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) {
        crypto.getRandomValues(body.subarray(i, Math.min(size, i + 65536)));
      }
      const h = off.hasher();
      for (let at = 0; at < size;) {
        const n = Math.min(size - at, 1 + Math.floor(r() * 300_000));
        const wait = h.update(body.subarray(at, at + n));
        if (wait !== undefined) await wait;
        at += n;
      }
      assert.deepEqual(await h.digest(), md5(body), `size ${size}`);
    }));
  } finally {
    off.close();
  }
});

Deno.test("bodies wait while MD5_OFFLOAD_INFLIGHT_BYTES_MAX is with the worker, all bodies together", async () => {
  const off = new Md5Offload();
  const bodies = 3;
  let waited = 0;
  let most = 0;
  try {
    const chunk = new Uint8Array(MD5_OFFLOAD_BATCH_BYTES).fill(7);
    const total = MD5_OFFLOAD_INFLIGHT_BYTES_MAX;
    const digests = await Promise.all(Array.from({ length: bodies }, async () => {
      const h = off.hasher();
      for (let sent = 0; sent < total; sent += chunk.length) {
        const wait = h.update(chunk);
        most = Math.max(most, off.inflightBytes);
        if (wait !== undefined) {
          waited++;
          await wait;
        }
      }
      return await h.digest();
    }));
    assert.ok(waited > 0, "some update returned a promise past the in-flight bound");
    // Each body adds at most one batch past the bound before it waits.
    assert.ok(most <= MD5_OFFLOAD_INFLIGHT_BYTES_MAX + bodies * MD5_OFFLOAD_BATCH_BYTES, `${most}`);
    const want = md5(new Uint8Array(MD5_OFFLOAD_INFLIGHT_BYTES_MAX).fill(7));
    for (const d of digests) assert.deepEqual(d, want);
    assert.equal(off.inflightBytes, 0);
  } finally {
    off.close();
  }
});

Deno.test("a disposed hash is dropped, and close rejects what is pending", async () => {
  const off = new Md5Offload();
  const dropped = off.hasher();
  dropped.update(new Uint8Array(MD5_OFFLOAD_BATCH_BYTES + 5));
  dropped.dispose();
  dropped.dispose();
  await assert.rejects(() => dropped.digest());
  const h = off.hasher();
  h.update(new Uint8Array(10));
  const pending = h.digest();
  off.close();
  await assert.rejects(() => pending, /closed/);
  assert.throws(() => off.hasher(), /closed/);
});
