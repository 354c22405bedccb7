import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { BodyTransform } from "./types.ts";
import { bodyOf, memoryLayer, randomBytes, readAll, SEED } from "./_testing.ts";

console.log(`transform_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);

/** Doubles every byte: a transform whose output size differs from its input's. */
function doubling(storedSize: number, etag?: (md5: Uint8Array) => string): BodyTransform {
  return {
    stream: new TransformStream({
      transform(chunk, controller) {
        const out = new Uint8Array(chunk.length * 2);
        chunk.forEach((b, i) => {
          out[2 * i] = b;
          out[2 * i + 1] = b ^ 0xff;
        });
        controller.enqueue(out);
      },
    }),
    storedSize,
    ...(etag !== undefined ? { etag } : {}),
  };
}

const md5Hex = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("a transformed body is hashed and verified as sent and stored as transformed", async () => {
  const l = await memoryLayer(4);
  await l.makeBucket("bkt");
  for (const n of [0, 1000, 3 * 1024 * 1024 + 5]) {
    const body = randomBytes(n, SEED + n);
    let verifiedSize = -1;
    const info = await l.putObject("bkt", `k${n}`, bodyOf(body), {
      size: n,
      metadata: { user: {}, internal: { mode: "test" } },
      checksumAlgorithms: ["CRC32"],
      transform: doubling(2 * n),
      verify: (d) => {
        verifiedSize = d.size;
        assert.equal(hex(d.md5), md5Hex(body));
      },
    });
    assert.equal(verifiedSize, n);
    assert.equal(info.size, 2 * n);
    assert.equal(info.etag, md5Hex(body));
    assert.deepEqual(info.metadata.internal, { mode: "test" });
    const r = await l.openObject("bkt", `k${n}`);
    const stored = await readAll(r.stream(0, r.info.size));
    assert.equal(stored.length, 2 * n);
    assert.ok(
      stored.every((b, i) => i % 2 === 0 ? b === body[i / 2] : b === (body[(i - 1) / 2]! ^ 0xff)),
    );
  }
});

Deno.test("a transform may replace the stored ETag of an object and of a part", async () => {
  const l = await memoryLayer(4);
  await l.makeBucket("bkt");
  const body = randomBytes(5000, SEED);
  const etag = (md5: Uint8Array) => md5Hex(md5).split("").reverse().join("");
  const info = await l.putObject("bkt", "k", bodyOf(body), {
    size: body.length,
    metadata: { user: {} },
    transform: doubling(-1, etag),
  });
  assert.equal(info.etag, etag(createHash("md5").update(body).digest()));
  const id = await l.newMultipartUpload("bkt", "m", { metadata: { user: {} } });
  const part = await l.putObjectPart("bkt", "m", id, 1, bodyOf(body), {
    size: body.length,
    transform: doubling(2 * body.length, etag),
  });
  assert.equal(part.etag, etag(createHash("md5").update(body).digest()));
  assert.equal(part.size, 2 * body.length);
});

Deno.test("putObjectInternal replaces internal metadata only while the object is unchanged", async () => {
  const l = await memoryLayer(4);
  await l.makeBucket("bkt");
  const body = randomBytes(300 * 1024, SEED);
  const info = await l.putObject("bkt", "k", bodyOf(body), {
    size: body.length,
    metadata: { user: { a: "b" }, internal: { sealed: "v1" } },
  });
  const stale = await l.putObjectInternal("bkt", "k", { sealed: "x" }, {
    etag: info.etag,
    internal: { sealed: "other" },
  });
  assert.equal(stale, undefined);
  const done = await l.putObjectInternal("bkt", "k", { sealed: "v2" }, {
    etag: info.etag,
    internal: { sealed: "v1" },
  });
  assert.deepEqual(done?.metadata, { user: { a: "b" }, internal: { sealed: "v2" } });
  const r = await l.openObject("bkt", "k");
  assert.deepEqual(r.info.metadata.internal, { sealed: "v2" });
  assert.equal(r.info.etag, info.etag);
  assert.deepEqual(await readAll(r.stream(0, r.info.size)), body);
});
