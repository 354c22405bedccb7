import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  BucketExists,
  BucketNotEmpty,
  BucketNotFound,
  IncompleteBody,
  ObjectNotFound,
  PreconditionFailed,
} from "./errors.ts";
import { bodyOf, filesUnder, fsCluster, randomBytes, readAll, SEED } from "./_testing.ts";

console.log(`object_layer_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);
const KiB = 1024, MiB = 1024 * KiB;
const SIZES = [0, 1, 128 * KiB - 1, 128 * KiB, MiB + 1, 5 * MiB];
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

for (const n of [4, 6]) {
  Deno.test(`stores and reads back every size byte-exact on ${n} drives`, async () => {
    const c = await fsCluster(n);
    try {
      await c.layer.makeBucket("bkt");
      for (const [i, size] of SIZES.entries()) {
        const data = randomBytes(size, SEED + i);
        const key = `sizes/obj-${size}`;
        // Half the sizes are sent without a declared length.
        const declared = i % 2 === 0 ? size : -1;
        const info = await c.layer.putObject("bkt", key, bodyOf(data), {
          size: declared,
          metadata: { contentType: "application/x-test", user: { n: String(size) } },
        });
        assert.equal(info.size, size);
        assert.equal(info.etag, md5(data));
        const r = await c.layer.openObject("bkt", key);
        assert.equal(r.info.etag, md5(data));
        assert.deepEqual(r.info.metadata, {
          contentType: "application/x-test",
          user: { n: String(size) },
        });
        const got = await readAll(r.stream(0, size));
        assert.equal(got.length, size);
        assert.ok(got.every((v, j) => v === data[j]), `size ${size} differs`);
      }
    } finally {
      await c.cleanup();
    }
  });
}

Deno.test("reads ranges that cross block and shard boundaries", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const size = 3 * MiB + 12345;
    const data = randomBytes(size, SEED);
    await c.layer.putObject("bkt", "r", bodyOf(data), { size, metadata: { user: {} } });
    const ranges: Array<[number, number]> = [
      [0, 1],
      [MiB - 1, 2],
      [MiB - 100, MiB + 200],
      [512 * KiB - 3, 7], // a shard boundary inside block 0 (k = 2)
      [2 * MiB, MiB + 12345],
      [size - 1, 1],
      [0, size],
      [17, 0],
    ];
    for (const [off, len] of ranges) {
      const r = await c.layer.openObject("bkt", "r");
      const got = await readAll(r.stream(off, len));
      assert.deepEqual(got, data.subarray(off, off + len), `range ${off}+${len}`);
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test("an overwrite replaces the object and removes the old data directory", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const a = randomBytes(2 * MiB, SEED + 1), b = randomBytes(MiB + 3, SEED + 2);
    await c.layer.putObject("bkt", "k", bodyOf(a), { size: a.length, metadata: { user: {} } });
    await c.layer.putObject("bkt", "k", bodyOf(b), { size: b.length, metadata: { user: {} } });
    const r = await c.layer.openObject("bkt", "k");
    assert.deepEqual(await readAll(r.stream(0, b.length)), b);
    for (const p of c.paths) {
      const files = (await filesUnder(`${p}/bkt`)).filter((f) => f.endsWith("part.1"));
      assert.equal(files.length, 1, `${p}: ${files}`);
    }
    // Inline over files and back.
    await c.layer.putObject("bkt", "k", bodyOf(new Uint8Array(5)), {
      size: 5,
      metadata: { user: {} },
    });
    for (const p of c.paths) assert.deepEqual(await filesUnder(`${p}/bkt`), ["k/~meta"]);
  } finally {
    await c.cleanup();
  }
});

Deno.test("a deleted object is gone with its directories, and deleting it again succeeds", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const data = randomBytes(MiB * 2, SEED);
    await c.layer.putObject("bkt", "a/b/c", bodyOf(data), {
      size: data.length,
      metadata: { user: {} },
    });
    await c.layer.putObject("bkt", "a/x", bodyOf(data.subarray(0, 10)), {
      size: 10,
      metadata: { user: {} },
    });
    await c.layer.deleteObject("bkt", "a/b/c");
    await assert.rejects(() => c.layer.getObjectInfo("bkt", "a/b/c"), ObjectNotFound);
    await c.layer.deleteObject("bkt", "a/b/c");
    for (const p of c.paths) assert.deepEqual(await filesUnder(`${p}/bkt`), ["a/x/~meta"]);
    await c.layer.deleteObject("bkt", "a/x");
    for (const p of c.paths) assert.deepEqual([...Deno.readDirSync(`${p}/bkt`)], []);
  } finally {
    await c.cleanup();
  }
});

Deno.test("a body shorter or longer than declared stores nothing", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const data = randomBytes(MiB + 10, SEED);
    for (const declared of [data.length + 1, data.length - 1, 5, 200]) {
      await assert.rejects(
        () =>
          c.layer.putObject("bkt", "k", bodyOf(data), { size: declared, metadata: { user: {} } }),
        IncompleteBody,
      );
    }
    await assert.rejects(() => c.layer.getObjectInfo("bkt", "k"), ObjectNotFound);
    for (const p of c.paths) {
      assert.deepEqual(await filesUnder(`${p}/bkt`), []);
      assert.deepEqual(await filesUnder(`${p}/.shale.sys/tmp`).catch(() => []), []);
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test("verify sees the digest before commit and its error stores nothing", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const data = new TextEncoder().encode("hello world");
    let seen: unknown;
    await assert.rejects(() =>
      c.layer.putObject("bkt", "k", bodyOf(data), {
        size: -1,
        metadata: { user: {} },
        checksumAlgorithms: ["CRC32", "SHA256"],
        verify: (d) => {
          seen = d;
          throw new Error("bad checksum");
        },
      }), /bad checksum/);
    assert.deepEqual(seen, {
      size: 11,
      md5: new Uint8Array(createHash("md5").update(data).digest()),
      checksums: {
        CRC32: "DUoRhQ==",
        SHA256: createHash("sha256").update(data).digest("base64"),
      },
    });
    await assert.rejects(() => c.layer.getObjectInfo("bkt", "k"), ObjectNotFound);
    const ok = await c.layer.putObject("bkt", "k", bodyOf(data), {
      size: 11,
      metadata: { user: {} },
      checksumAlgorithms: ["CRC32"],
    });
    assert.deepEqual(ok.checksums, { CRC32: "DUoRhQ==" });
    assert.deepEqual((await c.layer.getObjectInfo("bkt", "k")).checksums, { CRC32: "DUoRhQ==" });
  } finally {
    await c.cleanup();
  }
});

Deno.test("conditional writes are checked at commit", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const put = (data: string, conditions: { ifMatch?: string; ifNoneMatch?: string }) =>
      c.layer.putObject("bkt", "k", bodyOf(new TextEncoder().encode(data)), {
        size: -1,
        metadata: { user: {} },
        conditions,
      });
    await assert.rejects(() => put("x", { ifMatch: "*" }), PreconditionFailed);
    const first = await put("one", { ifNoneMatch: "*" });
    await assert.rejects(() => put("two", { ifNoneMatch: "*" }), PreconditionFailed);
    await assert.rejects(() => put("two", { ifMatch: '"0123"' }), PreconditionFailed);
    const second = await put("two", { ifMatch: `"${first.etag}"` });
    assert.notEqual(second.etag, first.etag);
    // Two racing If-None-Match writes: exactly one wins.
    await c.layer.deleteObject("bkt", "k");
    const results = await Promise.allSettled([
      put("a", { ifNoneMatch: "*" }),
      put("b", { ifNoneMatch: "*" }),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  } finally {
    await c.cleanup();
  }
});

Deno.test("buckets are created, listed, configured and deleted only when empty", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("b1");
    await c.layer.makeBucket("b2");
    await assert.rejects(() => c.layer.makeBucket("b1"), BucketExists);
    assert.deepEqual((await c.layer.listBuckets()).map((b) => b.name), ["b1", "b2"]);
    await assert.rejects(() => c.layer.getBucketInfo("nope"), BucketNotFound);
    await assert.rejects(
      () =>
        c.layer.putObject("nope", "k", bodyOf(new Uint8Array(1)), {
          size: 1,
          metadata: { user: {} },
        }),
      BucketNotFound,
    );
    await c.layer.putBucketConfig("b1", "cors", "<CORSConfiguration/>");
    assert.equal(await c.layer.getBucketConfig("b1", "cors"), "<CORSConfiguration/>");
    await c.layer.putBucketConfig("b1", "cors", undefined);
    assert.equal(await c.layer.getBucketConfig("b1", "cors"), undefined);
    await c.layer.putObject("b1", "k", bodyOf(new Uint8Array(1)), {
      size: 1,
      metadata: { user: {} },
    });
    await assert.rejects(() => c.layer.deleteBucket("b1"), BucketNotEmpty);
    const id = await c.layer.newMultipartUpload("b2", "u", { metadata: { user: {} } });
    await assert.rejects(() => c.layer.deleteBucket("b2"), BucketNotEmpty);
    await c.layer.abortMultipartUpload("b2", "u", id);
    await c.layer.deleteBucket("b2");
    assert.deepEqual((await c.layer.listBuckets()).map((b) => b.name), ["b1"]);
    const reopened = await c.reopen();
    assert.deepEqual((await reopened.listBuckets()).map((b) => b.name), ["b1"]);
  } finally {
    await c.cleanup();
  }
});

Deno.test("tags are replaced without touching data, and survive reads", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const data = randomBytes(300 * KiB, SEED);
    await c.layer.putObject("bkt", "t", bodyOf(data), {
      size: data.length,
      metadata: { user: {} },
      tags: [["a", "1"]],
    });
    const info = await c.layer.putObjectTags("bkt", "t", [["b", "2"], ["c", ""]]);
    assert.deepEqual(info.tags, [["b", "2"], ["c", ""]]);
    const r = await c.layer.openObject("bkt", "t");
    assert.deepEqual(r.info.tags, [["b", "2"], ["c", ""]]);
    assert.deepEqual(await readAll(r.stream(0, data.length)), data);
  } finally {
    await c.cleanup();
  }
});

Deno.test("keys with odd segments round-trip and list in S3 order", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const keys = [
      "a",
      "a/",
      "a//b",
      "a/./b",
      "a/../b",
      "~meta",
      "x/~meta",
      "é".repeat(150) + "/z",
      "sp ace",
      "a-c",
    ];
    for (const k of keys) {
      await c.layer.putObject("bkt", k, bodyOf(new TextEncoder().encode(k)), {
        size: -1,
        metadata: { user: {} },
      });
    }
    for (const k of keys) {
      const r = await c.layer.openObject("bkt", k);
      assert.equal(new TextDecoder().decode(await readAll(r.stream(0, r.info.size))), k);
    }
    const listed = await c.layer.listObjects("bkt", {
      prefix: "",
      delimiter: "",
      after: "",
      maxKeys: 1000,
    });
    const enc = new TextEncoder();
    const sorted = [...keys].sort((x, y) => {
      const a = enc.encode(x), b = enc.encode(y);
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (a[i] !== b[i]) return a[i]! - b[i]!;
      }
      return a.length - b.length;
    });
    assert.deepEqual(listed.objects.map((o) => o.key), sorted);
  } finally {
    await c.cleanup();
  }
});

Deno.test("a body that fails mid-upload stores nothing and leaves no temp files", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    let sent = 0;
    const cut = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent >= 2 * MiB + 5) return ctl.error(new Error("connection reset"));
        ctl.enqueue(new Uint8Array(64 * KiB));
        sent += 64 * KiB;
      },
    });
    await assert.rejects(
      () => c.layer.putObject("bkt", "k", cut, { size: 10 * MiB, metadata: { user: {} } }),
      /connection reset/,
    );
    await assert.rejects(() => c.layer.getObjectInfo("bkt", "k"), ObjectNotFound);
    for (const p of c.paths) {
      assert.deepEqual(await filesUnder(`${p}/bkt`), []);
      assert.deepEqual(await filesUnder(`${p}/.shale.sys/tmp`).catch(() => []), []);
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test("an open object keeps its version until read: an overwrite commits after the stream ends", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const a = randomBytes(3 * MiB, SEED + 10), b = randomBytes(MiB, SEED + 11);
    await c.layer.putObject("bkt", "k", bodyOf(a), { size: a.length, metadata: { user: {} } });
    const r = await c.layer.openObject("bkt", "k");
    const reader = r.stream(0, a.length).getReader();
    const first = await reader.read();
    let committed = false;
    const put = c.layer.putObject("bkt", "k", bodyOf(b), { size: b.length, metadata: { user: {} } })
      .then((i) => {
        committed = true;
        return i;
      });
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(committed, false, "the overwrite waits for the reader");
    const chunks = [first.value!];
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    const all = new Uint8Array(chunks.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const x of chunks) {
      all.set(x, at);
      at += x.length;
    }
    assert.deepEqual(all, a);
    assert.equal((await put).etag, md5(b));
    const r2 = await c.layer.openObject("bkt", "k");
    r2.close();
    assert.equal(r2.info.etag, md5(b));
  } finally {
    await c.cleanup();
  }
});
