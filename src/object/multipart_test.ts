import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createHasher, toBase64 } from "../util/checksums.ts";
import {
  InvalidPart,
  InvalidPartOrder,
  ObjectNotFound,
  PartTooSmall,
  PreconditionFailed,
  UploadNotFound,
} from "./errors.ts";
import { bodyOf, filesUnder, fsCluster, randomBytes, readAll, SEED } from "./_testing.ts";

console.log(`multipart_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);
const MiB = 1024 * 1024;
const meta = { user: {} };

Deno.test("a completed multipart upload reads back whole, by range and keeps its parts", async () => {
  const c = await fsCluster(4);
  try {
    const l = c.layer;
    await l.makeBucket("bkt");
    const id = await l.newMultipartUpload("bkt", "big", {
      metadata: { contentType: "video/mp4", user: { a: "b" } },
      tags: [["t", "1"]],
      checksumAlgorithm: "CRC32C",
    });
    assert.equal((await l.getMultipartUpload("bkt", "big", id)).metadata.contentType, "video/mp4");
    const p1 = randomBytes(5 * MiB, SEED), p2 = randomBytes(5 * MiB + 1, SEED + 1);
    const p3 = randomBytes(123, SEED + 2);
    // Part 2 is uploaded twice: the second upload replaces the first.
    await l.putObjectPart("bkt", "big", id, 2, bodyOf(p3), { size: p3.length });
    const i2 = await l.putObjectPart("bkt", "big", id, 2, bodyOf(p2), { size: p2.length });
    const i1 = await l.putObjectPart("bkt", "big", id, 1, bodyOf(p1), { size: -1 });
    const i5 = await l.putObjectPart("bkt", "big", id, 5, bodyOf(p3), { size: p3.length });
    const listed = await l.listParts("bkt", "big", id, { partNumberMarker: 0, maxParts: 2 });
    assert.deepEqual(listed.parts.map((p) => [p.partNumber, p.size]), [[1, 5 * MiB], [
      2,
      5 * MiB + 1,
    ]]);
    assert.equal(listed.isTruncated, true);
    assert.equal(listed.nextPartNumberMarker, 2);
    const rest = await l.listParts("bkt", "big", id, { partNumberMarker: 2, maxParts: 10 });
    assert.deepEqual(rest.parts.map((p) => p.partNumber), [5]);

    const info = await l.completeMultipartUpload("bkt", "big", id, [
      { partNumber: 1, etag: `"${i1.etag}"` },
      { partNumber: 2, etag: i2.etag },
      { partNumber: 5, etag: i5.etag },
    ], {});
    const md5 = (b: Uint8Array) => createHash("md5").update(b).digest();
    const want = createHash("md5").update(Buffer.concat([md5(p1), md5(p2), md5(p3)])).digest("hex");
    assert.equal(info.etag, `${want}-3`);
    assert.deepEqual(info.parts.map((p) => [p.partNumber, p.size]), [
      [1, 5 * MiB],
      [2, 5 * MiB + 1],
      [5, 123],
    ]);
    assert.deepEqual(info.tags, [["t", "1"]]);
    assert.equal(info.checksumType, "COMPOSITE");
    const crcs = await Promise.all([p1, p2, p3].map(async (p) => {
      const h = await createHasher("CRC32C");
      h.update(p);
      return h.digest();
    }));
    const h = await createHasher("CRC32C");
    h.update(new Uint8Array(Buffer.concat(crcs)));
    assert.equal(info.checksums.CRC32C, `${toBase64(h.digest())}-3`);

    const all = new Uint8Array(Buffer.concat([p1, p2, p3]));
    const r = await l.openObject("bkt", "big");
    assert.equal(r.info.size, all.length);
    assert.deepEqual(await readAll(r.stream(0, all.length)), all);
    const r2 = await l.openObject("bkt", "big");
    const off = 5 * MiB - 10;
    assert.deepEqual(
      await readAll(r2.stream(off, 5 * MiB + 20)),
      all.subarray(off, off + 5 * MiB + 20),
    );
    // The upload is gone: nothing of it remains on any drive.
    await assert.rejects(
      () => l.listParts("bkt", "big", id, { partNumberMarker: 0, maxParts: 10 }),
      UploadNotFound,
    );
    for (const p of c.paths) {
      assert.deepEqual(await filesUnder(`${p}/.shale.sys/multipart`).catch(() => []), []);
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test("complete refuses unknown parts, wrong ETags, bad order and small parts", async () => {
  const c = await fsCluster(4);
  try {
    const l = c.layer;
    await l.makeBucket("bkt");
    const id = await l.newMultipartUpload("bkt", "k", { metadata: meta });
    const small = randomBytes(1000, SEED);
    const big = randomBytes(5 * MiB, SEED + 1);
    const a = await l.putObjectPart("bkt", "k", id, 1, bodyOf(small), { size: small.length });
    const b = await l.putObjectPart("bkt", "k", id, 2, bodyOf(big), { size: big.length });
    const complete = (parts: Array<{ partNumber: number; etag: string }>) =>
      l.completeMultipartUpload("bkt", "k", id, parts, {});
    await assert.rejects(() => complete([{ partNumber: 3, etag: a.etag }]), InvalidPart);
    await assert.rejects(() => complete([{ partNumber: 1, etag: b.etag }]), InvalidPart);
    await assert.rejects(
      () => complete([{ partNumber: 2, etag: b.etag }, { partNumber: 1, etag: a.etag }]),
      InvalidPartOrder,
    );
    await assert.rejects(
      () => complete([{ partNumber: 1, etag: a.etag }, { partNumber: 2, etag: b.etag }]),
      PartTooSmall,
    );
    await assert.rejects(() => l.getObjectInfo("bkt", "k"), ObjectNotFound);
    // A single small part (the last) is fine.
    const info = await complete([{ partNumber: 1, etag: a.etag }]);
    assert.equal(info.size, 1000);
    assert.match(info.etag, /-1$/);
  } finally {
    await c.cleanup();
  }
});

Deno.test("abort removes the upload and its parts, and unknown uploads are refused", async () => {
  const c = await fsCluster(4);
  try {
    const l = c.layer;
    await l.makeBucket("bkt");
    const id = await l.newMultipartUpload("bkt", "k", { metadata: meta });
    await l.putObjectPart("bkt", "k", id, 1, bodyOf(randomBytes(MiB, SEED)), { size: MiB });
    await l.abortMultipartUpload("bkt", "k", id);
    await assert.rejects(() => l.abortMultipartUpload("bkt", "k", id), UploadNotFound);
    await assert.rejects(
      () => l.putObjectPart("bkt", "k", id, 1, bodyOf(new Uint8Array(1)), { size: 1 }),
      UploadNotFound,
    );
    await assert.rejects(() => l.getMultipartUpload("bkt", "other", id), UploadNotFound);
    await assert.rejects(() => l.getMultipartUpload("bkt", "k", "not-an-id"), UploadNotFound);
    for (const p of c.paths) {
      assert.deepEqual(await filesUnder(`${p}/.shale.sys/multipart`).catch(() => []), []);
    }
    for (const p of c.paths) {
      assert.deepEqual(await filesUnder(`${p}/.shale.sys/tmp`).catch(() => []), []);
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test("uploads are listed by key and upload id with markers and common prefixes", async () => {
  const c = await fsCluster(4);
  try {
    const l = c.layer;
    await l.makeBucket("bkt");
    const ids: Array<[string, string]> = [];
    for (const key of ["b/1", "a", "b/2", "c", "a"]) {
      ids.push([key, await l.newMultipartUpload("bkt", key, { metadata: meta })]);
      await new Promise((r) => setTimeout(r, 3));
    }
    const all = await l.listMultipartUploads("bkt", {
      prefix: "",
      delimiter: "",
      keyMarker: "",
      uploadIdMarker: "",
      maxUploads: 1000,
    });
    assert.deepEqual(all.uploads.map((u) => u.key), ["a", "a", "b/1", "b/2", "c"]);
    const p1 = await l.listMultipartUploads("bkt", {
      prefix: "",
      delimiter: "",
      keyMarker: "",
      uploadIdMarker: "",
      maxUploads: 2,
    });
    assert.equal(p1.isTruncated, true);
    assert.equal(p1.nextKeyMarker, "a");
    const p2 = await l.listMultipartUploads("bkt", {
      prefix: "",
      delimiter: "",
      keyMarker: p1.nextKeyMarker!,
      uploadIdMarker: p1.nextUploadIdMarker!,
      maxUploads: 2,
    });
    assert.deepEqual(p2.uploads.map((u) => u.key), ["b/1", "b/2"]);
    const d = await l.listMultipartUploads("bkt", {
      prefix: "",
      delimiter: "/",
      keyMarker: "",
      uploadIdMarker: "",
      maxUploads: 10,
    });
    assert.deepEqual(d.uploads.map((u) => u.key), ["a", "a", "c"]);
    assert.deepEqual(d.prefixes, ["b/"]);
  } finally {
    await c.cleanup();
  }
});

Deno.test("complete honours conditions and full-object CRCs combine the parts", async () => {
  const c = await fsCluster(4);
  try {
    const l = c.layer;
    await l.makeBucket("bkt");
    await l.putObject("bkt", "k", bodyOf(new Uint8Array(3)), { size: 3, metadata: meta });
    const id = await l.newMultipartUpload("bkt", "k", {
      metadata: meta,
      checksumAlgorithm: "CRC32",
      checksumType: "FULL_OBJECT",
    });
    const p1 = randomBytes(5 * MiB, SEED), p2 = randomBytes(777, SEED + 3);
    const a = await l.putObjectPart("bkt", "k", id, 1, bodyOf(p1), { size: p1.length });
    const b = await l.putObjectPart("bkt", "k", id, 2, bodyOf(p2), { size: p2.length });
    const parts = [{ partNumber: 1, etag: a.etag }, { partNumber: 2, etag: b.etag }];
    await assert.rejects(
      () => l.completeMultipartUpload("bkt", "k", id, parts, { conditions: { ifNoneMatch: "*" } }),
      PreconditionFailed,
    );
    const info = await l.completeMultipartUpload("bkt", "k", id, parts, {});
    const h = await createHasher("CRC32");
    h.update(p1);
    h.update(p2);
    assert.equal(info.checksums.CRC32, toBase64(h.digest()));
    assert.equal(info.checksumType, "FULL_OBJECT");
  } finally {
    await c.cleanup();
  }
});

Deno.test("part notes reach seal at completion, whose metadata lands in the same commit", async () => {
  const c = await fsCluster(4);
  try {
    const l = c.layer;
    await l.makeBucket("bkt");
    const id = await l.newMultipartUpload("bkt", "k", {
      metadata: { user: {}, internal: { keep: "1", over: "old" } },
    });
    const identity = () => ({
      stream: new TransformStream<Uint8Array, Uint8Array>(),
      storedSize: -1,
    });
    const p1 = randomBytes(5 * MiB, SEED), p2 = randomBytes(7, SEED + 1);
    const i1 = await l.putObjectPart("bkt", "k", id, 1, bodyOf(p1), {
      size: p1.length,
      transform: { ...identity(), note: "one" },
    });
    const i2 = await l.putObjectPart("bkt", "k", id, 2, bodyOf(p2), { size: p2.length });
    const parts = [{ partNumber: 1, etag: i1.etag }, { partNumber: 2, etag: i2.etag }];
    // A seal that throws refuses the completion: nothing is committed, the upload stays.
    await assert.rejects(
      () =>
        l.completeMultipartUpload("bkt", "k", id, parts, {
          seal: () => {
            throw new Error("no");
          },
        }),
      /no/,
    );
    await assert.rejects(() => l.getObjectInfo("bkt", "k"), ObjectNotFound);
    let seen: unknown;
    const info = await l.completeMultipartUpload("bkt", "k", id, parts, {
      seal: (ps) => {
        seen = ps;
        return { over: "new", mac: "m" };
      },
    });
    assert.deepEqual(seen, [
      { partNumber: 1, size: p1.length, note: "one" },
      { partNumber: 2, size: p2.length, note: "" },
    ]);
    assert.deepEqual(info.metadata.internal, { keep: "1", over: "new", mac: "m" });
    assert.deepEqual((await l.getObjectInfo("bkt", "k")).metadata.internal, info.metadata.internal);
  } finally {
    await c.cleanup();
  }
});
