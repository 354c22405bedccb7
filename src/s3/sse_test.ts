/**
 * SSE through the S3 handler over a real object layer, with the stored ciphertext and metadata
 * tampered with through the object layer (beyond what erasure coding would repair): every read
 * fails with an error and never returns bytes that are not the plaintext.
 */
import { equal, notEqual, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha256Hex, signRequestForTest } from "../auth/testing.ts";
import {
  createEncryptStream,
  deriveStreamKey,
  Kms,
  newObjectKey,
  newStreamIv,
} from "../crypto/mod.ts";
import { pipeBytes } from "../crypto/_testing.ts";
import { openObjectLayer } from "../object/mod.ts";
import type { ObjectLayer, ObjectMetadata } from "../object/types.ts";
import { setLogSink } from "../util/logger.ts";
import { staticCredentialStore } from "./credentials.ts";
import { createS3Handler, type S3Handler } from "./dispatch.ts";

const CREDS = { accessKey: "unit-test-key", secretKey: "unit-test-secret" };
const PACKAGE = 64 * 1024;
const SEED = Number(Deno.env.get("SHALE_SEED") ?? Date.now() % 1_000_000);
console.log(`sse_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);

function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** SSE-C request headers for a fresh random 256-bit key. */
function randomCustomerKeyHeaders(): Record<string, string> {
  const key = crypto.getRandomValues(new Uint8Array(32));
  return {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": btoa(String.fromCharCode(...key)),
    "x-amz-server-side-encryption-customer-key-md5": createHash("md5").update(key).digest("base64"),
  };
}

function signed(
  method: string,
  path: string,
  options: { body?: Uint8Array<ArrayBuffer>; headers?: Record<string, string> } = {},
): Request {
  const url = new URL(`http://127.0.0.1:9000${path}`);
  const body = options.body ?? new Uint8Array(0);
  const s = signRequestForTest(
    {
      method,
      rawPath: url.pathname,
      rawQuery: url.search.slice(1),
      headers: new Headers({
        host: url.host,
        ...(body.length > 0 ? { "content-length": String(body.length) } : {}),
        ...options.headers,
      }),
    },
    { ...CREDS, region: "us-east-1", payloadHash: sha256Hex(body) },
  );
  return new Request(url, {
    method,
    headers: s.headers,
    ...(body.length > 0 ? { body } : {}),
  });
}

interface Fixture {
  objects: ObjectLayer;
  kms: Kms;
  handle: S3Handler;
  call: (req: Request) => Promise<Response>;
}

async function withServer(
  fn: (f: Fixture) => Promise<void>,
  sse: { allowHttpCustomerKeys?: boolean; tls?: boolean } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "shale-sse-unit-" });
  const objects = await openObjectLayer({ drives: [1, 2, 3, 4].map((i) => `${dir}/d${i}`) });
  const kms = Kms.open({ name: "unit-key", key: crypto.getRandomValues(new Uint8Array(32)) });
  const handle = createS3Handler({
    objects,
    credentials: staticCredentialStore([CREDS]),
    region: "us-east-1",
    domains: [],
    sse: { kms, ...sse },
  });
  const call = (req: Request) => handle(req, { remoteAddress: "127.0.0.1:40000" });
  setLogSink(() => {});
  try {
    equal((await call(signed("PUT", "/tamper"))).status, 200);
    await fn({ objects, kms, handle, call });
  } finally {
    setLogSink((line) => console.error(line));
    await objects.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** Replaces the stored bytes (and optionally metadata) of an object through the object layer. */
async function rewrite(
  objects: ObjectLayer,
  key: string,
  change: {
    data?: (stored: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>;
    metadata?: (m: ObjectMetadata) => ObjectMetadata;
    to?: string;
  },
): Promise<void> {
  const r = await objects.openObject("tamper", key);
  const stored = await readAll(r.stream(0, r.info.size));
  const data = change.data?.(stored) ?? stored;
  const metadata = change.metadata?.(r.info.metadata) ?? r.info.metadata;
  await objects.putObject("tamper", change.to ?? key, new Blob([data]).stream(), {
    size: data.length,
    metadata,
  });
}

/** What a GET yields: the bytes it delivered before it ended, and whether it ended in error. */
async function getOutcome(
  f: Fixture,
  key: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; delivered: Uint8Array; failed: boolean }> {
  const res = await f.call(signed("GET", `/tamper/${key}`, { headers }));
  if (res.status !== 200 || res.body === null) {
    await res.body?.cancel();
    return { status: res.status, delivered: new Uint8Array(0), failed: true };
  }
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let failed = false;
  try {
    for await (const c of res.body) chunks.push(c as Uint8Array<ArrayBuffer>);
  } catch {
    failed = true;
  }
  return {
    status: res.status,
    delivered: new Uint8Array(await new Blob(chunks).arrayBuffer()),
    failed,
  };
}

/** The read failed, and whatever it delivered first is a prefix of the plaintext. */
function assertFailedSafely(
  outcome: { delivered: Uint8Array; failed: boolean },
  plaintext: Uint8Array,
  what: string,
): void {
  ok(outcome.failed, `${what}: the read succeeded`);
  ok(outcome.delivered.length < plaintext.length, `${what}: delivered everything`);
  ok(
    outcome.delivered.every((b, i) => b === plaintext[i]),
    `${what}: delivered bytes that are not the plaintext`,
  );
}

const SSE_S3 = { "x-amz-server-side-encryption": "AES256" };

async function put(
  f: Fixture,
  key: string,
  body: Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = SSE_S3,
): Promise<void> {
  const res = await f.call(signed("PUT", `/tamper/${key}`, { body, headers }));
  equal(res.status, 200, await res.text());
}

Deno.test("a flipped ciphertext bit fails the read at its package", async () => {
  await withServer(async (f) => {
    const plain = bytes(4 * PACKAGE + 100, SEED);
    await put(f, "flip", plain);
    const ok200 = await getOutcome(f, "flip");
    equal(ok200.failed, false);
    equal(
      createHash("md5").update(ok200.delivered).digest("hex"),
      createHash("md5").update(plain).digest("hex"),
    );
    for (const at of [0, 2 * (PACKAGE + 16) + 77, 4 * (PACKAGE + 16) + 3]) {
      await put(f, "flip", plain);
      await rewrite(f.objects, "flip", {
        data: (c) => {
          const d = c.slice();
          d[at]! ^= 0x10;
          return d;
        },
      });
      const lines: string[] = [];
      setLogSink((line) => lines.push(line));
      assertFailedSafely(await getOutcome(f, "flip"), plain, `bit flipped at ${at}`);
      ok(
        lines.some((l) => l.includes("failed to decrypt") && l.includes('"key":"flip"')),
        lines.join("\n"),
      );
    }
  });
});

Deno.test("a truncated, reordered or padded package stream fails the read", async () => {
  await withServer(async (f) => {
    const plain = bytes(3 * PACKAGE + 5, SEED + 1);
    const P = PACKAGE + 16;
    const cases: Array<[string, (c: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>]> = [
      ["cut after two packages", (c) => c.slice(0, 2 * P)],
      ["cut inside a package", (c) => c.slice(0, 2 * P + 100)],
      ["last package dropped to its tag", (c) => c.slice(0, 3 * P + 16)],
      ["packages 0 and 1 swapped", (c) => {
        const d = c.slice();
        d.set(c.subarray(P, 2 * P), 0);
        d.set(c.subarray(0, P), P);
        return d;
      }],
      ["a package repeated", (c) => {
        const d = c.slice();
        d.set(c.subarray(0, P), P);
        return d;
      }],
      ["16 bytes appended", (c) => new Uint8Array([...c, ...new Uint8Array(16)])],
    ];
    for (const [what, change] of cases) {
      await put(f, "stream", plain);
      await rewrite(f.objects, "stream", { data: change });
      assertFailedSafely(await getOutcome(f, "stream"), plain, what);
    }
  });
});

Deno.test("a sealed key copied onto another object, or a whole object moved, does not open", async () => {
  await withServer(async (f) => {
    const a = bytes(PACKAGE + 9, SEED + 2);
    const b = bytes(PACKAGE + 9, SEED + 3);
    await put(f, "a", a);
    await put(f, "b", b);
    const ra = await f.objects.getObjectInfo("tamper", "a");
    // b's sealed key (and IV) replaced by a's: a's key is bound to a's name.
    await rewrite(f.objects, "b", {
      metadata: (m) => ({ ...m, internal: { ...ra.metadata.internal } }),
    });
    const onB = await getOutcome(f, "b");
    assertFailedSafely(onB, b, "sealed key of a on b");
    notEqual(onB.status, 200);
    // a's ciphertext and record together under another name.
    await rewrite(f.objects, "a", { to: "moved" });
    assertFailedSafely(await getOutcome(f, "moved"), a, "a moved to another name");
    // SSE-C: the same, answered 403 as a wrong key.
    const ssec = randomCustomerKeyHeaders();
    await put(f, "c1", a, ssec);
    await rewrite(f.objects, "c1", { to: "c2" });
    const moved = await getOutcome(f, "c2", ssec);
    equal(moved.status, 403);
    equal((await getOutcome(f, "c1", ssec)).failed, false);
  });
});

Deno.test("SSE-C keys over plain HTTP are refused unless the client is on loopback", async () => {
  await withServer(async (f) => {
    const ssec = randomCustomerKeyHeaders();
    const body = bytes(10, SEED);
    const remote = await f.handle(
      signed("PUT", "/tamper/http", { body, headers: ssec }),
      { remoteAddress: "192.0.2.7:5000" },
    );
    equal(remote.status, 400);
    ok((await remote.text()).includes("secure connection"));
    const local = await f.handle(
      signed("PUT", "/tamper/http", { body, headers: ssec }),
      { remoteAddress: "[::1]:5000" },
    );
    equal(local.status, 200);
  });
});

Deno.test("SSE-C keys over plain HTTP from elsewhere are refused on GET, HEAD and copies too", async () => {
  await withServer(async (f) => {
    const ssec = randomCustomerKeyHeaders();
    const body = bytes(10, SEED);
    equal((await f.call(signed("PUT", "/tamper/kept", { body, headers: ssec }))).status, 200);
    const remote = { remoteAddress: "192.0.2.7:5000" };
    const get = await f.handle(signed("GET", "/tamper/kept", { headers: ssec }), remote);
    equal(get.status, 400);
    const text = await get.text();
    ok(text.includes("<Code>InvalidRequest</Code>") && text.includes("secure connection"), text);
    const head = await f.handle(signed("HEAD", "/tamper/kept", { headers: ssec }), remote);
    equal(head.status, 400);
    equal(await head.text(), "");
    // The copy-source key is a key too.
    const copySource = Object.fromEntries(
      Object.entries(ssec).map(([k, v]) => [k.replace("x-amz-", "x-amz-copy-source-"), v]),
    );
    const copy = await f.handle(
      signed("PUT", "/tamper/copy", {
        headers: { "x-amz-copy-source": "/tamper/kept", ...copySource },
      }),
      remote,
    );
    equal(copy.status, 400);
    ok((await copy.text()).includes("secure connection"));
    // From loopback the same requests work.
    const local = await f.handle(signed("GET", "/tamper/kept", { headers: ssec }), {
      remoteAddress: "127.0.0.1:5000",
    });
    equal(local.status, 200);
    ok(equalBody(new Uint8Array(await local.arrayBuffer()), body));
  });
});

function equalBody(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

Deno.test("SSE-C keys over HTTP from anywhere are accepted with SHALE_SSE_C_ALLOW_HTTP or TLS", async () => {
  const ssec = randomCustomerKeyHeaders();
  for (const option of [{ allowHttpCustomerKeys: true }, { tls: true }]) {
    await withServer(async (f) => {
      const res = await f.handle(
        signed("PUT", "/tamper/remote", { body: bytes(10, SEED), headers: ssec }),
        { remoteAddress: "192.0.2.7:5000" },
      );
      equal(res.status, 200, JSON.stringify(option));
    }, option);
  }
});

// Multipart: the part list is MACed under the data key (FORMAT.md "Part list MAC").

const MiB = 1024 * 1024;

/** A multipart upload through the handler; `headers` go on every request (SSE-C) or only on Create. */
async function putMultipart(
  f: Fixture,
  key: string,
  parts: Uint8Array<ArrayBuffer>[],
  headers: Record<string, string> = SSE_S3,
  options: { completeHeaders?: Record<string, string> } = {},
): Promise<Response> {
  const created = await f.call(signed("POST", `/tamper/${key}?uploads`, { headers }));
  equal(created.status, 200);
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1]!;
  const query = `uploadId=${encodeURIComponent(uploadId)}`;
  const perPart = "x-amz-server-side-encryption-customer-key" in headers ? headers : {};
  const etags: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const res = await f.call(
      signed("PUT", `/tamper/${key}?partNumber=${i + 1}&${query}`, {
        body: parts[i]!,
        headers: perPart,
      }),
    );
    equal(res.status, 200, await res.text());
    etags.push(res.headers.get("etag")!);
  }
  const xml = "<CompleteMultipartUpload>" +
    etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join(
      "",
    ) +
    "</CompleteMultipartUpload>";
  return await f.call(
    signed("POST", `/tamper/${key}?${query}`, {
      body: new TextEncoder().encode(xml),
      headers: options.completeHeaders ?? perPart,
    }),
  );
}

interface StoredPart {
  partNumber: number;
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Writes a multipart object again through the object layer, as someone with the drives could:
 * its stored parts (changed by `parts`) under their numbers, and its record (changed by
 * `internal`). Unchanged, the copy is the same object.
 */
async function rewriteMultipart(
  objects: ObjectLayer,
  key: string,
  change: {
    parts?: (stored: StoredPart[]) => StoredPart[];
    internal?: (m: Record<string, string>) => Record<string, string>;
  },
): Promise<void> {
  const r = await objects.openObject("tamper", key);
  const stored: StoredPart[] = [];
  let at = 0;
  for (const p of r.info.parts) {
    stored.push({ partNumber: p.partNumber, bytes: await readAll(r.stream(at, p.size)) });
    at += p.size;
  }
  r.close();
  const internal = { ...r.info.metadata.internal };
  const metadata = { ...r.info.metadata, internal: change.internal?.(internal) ?? internal };
  const parts = change.parts?.(stored) ?? stored;
  const uploadId = await objects.newMultipartUpload("tamper", key, { metadata });
  const done = [];
  for (const p of parts) {
    const info = await objects.putObjectPart(
      "tamper",
      key,
      uploadId,
      p.partNumber,
      new Blob([p.bytes]).stream(),
      { size: p.bytes.length },
    );
    done.push({ partNumber: p.partNumber, etag: info.etag });
  }
  await objects.completeMultipartUpload("tamper", key, uploadId, done, {});
}

function multipartBody(seed: number): { parts: Uint8Array<ArrayBuffer>[]; whole: Uint8Array } {
  const parts = [bytes(5 * MiB, seed), bytes(5 * MiB + 3, seed + 1), bytes(PACKAGE + 7, seed + 2)];
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (whole.set(p, o), o + p.length), 0);
  return { parts, whole };
}

const ivsOf = (m: Record<string, string>) =>
  Uint8Array.from(atob(m["sse-part-ivs"]!), (c) => c.charCodeAt(0));
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

Deno.test("a dropped, swapped or re-IVed part of a multipart object fails before any byte", async () => {
  await withServer(async (f) => {
    const { parts, whole } = multipartBody(SEED + 20);
    equal((await putMultipart(f, "mp", parts)).status, 200);
    const info = await f.objects.getObjectInfo("tamper", "mp");
    equal(info.metadata.internal?.["sse-parts"], "iv-prefix-mac");
    equal(ivsOf(info.metadata.internal!).length, 3 * 16);
    equal(info.metadata.internal?.["sse-parts-mac"]?.length, 44);
    const intact = await getOutcome(f, "mp");
    equal(intact.failed, false);
    ok(
      intact.delivered.length === whole.length && intact.delivered.every((b, i) => b === whole[i]),
    );

    const cases: Array<[string, Parameters<typeof rewriteMultipart>[2]]> = [
      ["part 2 dropped", { parts: (s) => [s[0]!, s[2]!] }],
      ["part 2 and its IV dropped", {
        parts: (s) => [s[0]!, s[2]!],
        internal: (m) => {
          const ivs = ivsOf(m);
          return {
            ...m,
            "sse-part-ivs": b64(new Uint8Array([...ivs.subarray(0, 16), ...ivs.subarray(32)])),
          };
        },
      }],
      ["the last part dropped", { parts: (s) => s.slice(0, 2) }],
      ["parts 1 and 2 swapped with their IVs", {
        parts: (s) => [
          { partNumber: 1, bytes: s[1]!.bytes },
          { partNumber: 2, bytes: s[0]!.bytes },
          s[2]!,
        ],
        internal: (m) => {
          const ivs = ivsOf(m);
          return {
            ...m,
            "sse-part-ivs": b64(
              new Uint8Array([
                ...ivs.subarray(16, 32),
                ...ivs.subarray(0, 16),
                ...ivs.subarray(32),
              ]),
            ),
          };
        },
      }],
      ["part 2's IV changed", {
        internal: (m) => {
          const ivs = ivsOf(m);
          ivs[20]! ^= 1;
          return { ...m, "sse-part-ivs": b64(ivs) };
        },
      }],
      ["part 3 renumbered 4", {
        parts: (s) => [s[0]!, s[1]!, { partNumber: 4, bytes: s[2]!.bytes }],
      }],
      ["the MAC removed", {
        internal: (m) => {
          const { "sse-parts-mac": _, ...rest } = m;
          return rest;
        },
      }],
    ];
    for (const [what, change] of cases) {
      equal((await putMultipart(f, "mp", parts)).status, 200);
      await rewriteMultipart(f.objects, "mp", change);
      const lines: string[] = [];
      setLogSink((line) => lines.push(line));
      const outcome = await getOutcome(f, "mp");
      equal(outcome.status, 500, what);
      assertFailedSafely(outcome, whole, what);
      equal(outcome.delivered.length, 0, what);
      const head = await f.call(signed("HEAD", "/tamper/mp"));
      equal(head.status, 500, `${what}: HEAD`);
      ok(lines.some((l) => l.includes("failed to decrypt") && l.includes('"key":"mp"')), what);
      setLogSink(() => {});
    }

    // Relabelled as part format 1 (no MAC): its parts' stream keys differ, every package fails.
    equal((await putMultipart(f, "mp", parts)).status, 200);
    await rewriteMultipart(f.objects, "mp", {
      internal: (m) => {
        const { "sse-parts-mac": _, "sse-part-ivs": __, ...rest } = m;
        return { ...rest, "sse-parts": "iv-prefix" };
      },
    });
    const relabelled = await getOutcome(f, "mp");
    assertFailedSafely(relabelled, whole, "relabelled as part format 1");
    equal(relabelled.delivered.length, 0);

    // A bit flipped in part 1's bytes, the list intact: that part's package fails. (The read
    // fails with part 2 already opened; it must close it, or the object's read lock is held
    // for ever and the next write of the key below never starts.)
    equal((await putMultipart(f, "mp", parts)).status, 200);
    await rewriteMultipart(f.objects, "mp", {
      parts: (s) => {
        const flipped = s[0]!.bytes.slice();
        flipped[16 + 3 * (PACKAGE + 16) + 5]! ^= 0x40;
        return [{ partNumber: 1, bytes: flipped }, s[1]!, s[2]!];
      },
    });
    assertFailedSafely(await getOutcome(f, "mp"), whole, "a bit flipped in part 1");

    // The same object written again unchanged reads back whole: the harness itself is sound.
    equal((await putMultipart(f, "mp", parts)).status, 200);
    await rewriteMultipart(f.objects, "mp", {});
    const again = await getOutcome(f, "mp");
    equal(again.failed, false);
    ok(again.delivered.length === whole.length && again.delivered.every((b, i) => b === whole[i]));
  });
});

Deno.test("a multipart object written before part-list MACs (part format 1) still reads", async () => {
  await withServer(async (f) => {
    const { parts, whole } = multipartBody(SEED + 30);
    // What CreateMultipartUpload and UploadPart stored before: the v1 stream label, no MAC.
    const { dataKey, record } = await newObjectKey({ mode: "SSE-S3" }, {
      bucket: "tamper",
      object: "old",
      kms: f.kms,
    });
    const internal = {
      "sse": "1",
      "sse-mode": "SSE-S3",
      "sse-key-id": record.keyId,
      "sse-sealed-key": b64(record.sealedKey),
      "sse-parts": "iv-prefix",
    };
    const uploadId = await f.objects.newMultipartUpload("tamper", "old", {
      metadata: { user: {}, internal },
    });
    const done = [];
    for (let i = 0; i < parts.length; i++) {
      const iv = newStreamIv();
      const stream = await pipeBytes(
        parts[i]!,
        createEncryptStream(deriveStreamKey(dataKey, { iv, partNumber: i + 1 })),
      );
      const stored = new Uint8Array([...iv, ...stream]);
      const p = await f.objects.putObjectPart(
        "tamper",
        "old",
        uploadId,
        i + 1,
        new Blob([stored]).stream(),
        { size: stored.length },
      );
      done.push({ partNumber: i + 1, etag: p.etag });
    }
    await f.objects.completeMultipartUpload("tamper", "old", uploadId, done, {});
    const got = await getOutcome(f, "old");
    equal(got.failed, false);
    ok(got.delivered.length === whole.length && got.delivered.every((b, i) => b === whole[i]));
    const ranged = await f.call(
      signed("GET", "/tamper/old", { headers: { range: `bytes=${5 * MiB - 9}-${5 * MiB + 99}` } }),
    );
    equal(ranged.status, 206);
    const slice = new Uint8Array(await ranged.arrayBuffer());
    ok(slice.every((b, i) => b === whole[5 * MiB - 9 + i]));
  });
});

Deno.test("an SSE-C completion MACs the part list with the key, and without it stores only the IVs", async () => {
  await withServer(async (f) => {
    const { parts, whole } = multipartBody(SEED + 40);
    const ssec = randomCustomerKeyHeaders();
    // Another key than the upload's: 400, nothing committed.
    const wrong = await putMultipart(f, "c", parts, ssec, {
      completeHeaders: randomCustomerKeyHeaders(),
    });
    equal(wrong.status, 400);
    ok((await wrong.text()).includes("<Code>InvalidRequest</Code>"));
    equal((await f.call(signed("HEAD", "/tamper/c", { headers: ssec }))).status, 404);
    const readsWhole = async () => {
      const got = await getOutcome(f, "c", ssec);
      equal(got.failed, false);
      ok(got.delivered.length === whole.length && got.delivered.every((b, i) => b === whole[i]));
    };
    // With the key: IVs and MAC.
    const right = await putMultipart(f, "c", parts, ssec);
    equal(right.status, 200, await right.text());
    let internal = (await f.objects.getObjectInfo("tamper", "c")).metadata.internal!;
    equal(ivsOf(internal).length, 3 * 16);
    equal(internal["sse-parts-mac"]?.length, 44);
    await readsWhole();
    // Without it (AWS does not ask; s3transfer before 0.7 does not send it): IVs only, reads.
    const missing = await putMultipart(f, "c", parts, ssec, { completeHeaders: {} });
    equal(missing.status, 200, await missing.text());
    internal = (await f.objects.getObjectInfo("tamper", "c")).metadata.internal!;
    equal(ivsOf(internal).length, 3 * 16);
    equal(internal["sse-parts-mac"], undefined);
    await readsWhole();
    // Each part still authenticates its own packages: a changed IV fails before any byte.
    await rewriteMultipart(f.objects, "c", {
      internal: (m) => {
        const ivs = ivsOf(m);
        ivs[20]! ^= 1;
        return { ...m, "sse-part-ivs": b64(ivs) };
      },
    });
    const reIved = await getOutcome(f, "c", ssec);
    assertFailedSafely(reIved, whole, "an SSE-C part's IV changed");
    // SSE-C headers on the completion of an upload that is not SSE-C.
    const notC = await putMultipart(f, "s3", parts, SSE_S3, { completeHeaders: ssec });
    equal(notC.status, 400);
  });
});

Deno.test("a part uploaded without its IV note cannot complete a part-format-2 upload", async () => {
  await withServer(async (f) => {
    const created = await f.call(signed("POST", "/tamper/nonote?uploads", { headers: SSE_S3 }));
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1]!;
    // Stored straight through the object layer, as no UploadPart would: no note.
    const p = await f.objects.putObjectPart(
      "tamper",
      "nonote",
      uploadId,
      1,
      new Blob([new Uint8Array(100)]).stream(),
      { size: 100 },
    );
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${p.etag}"` +
      "</ETag></Part></CompleteMultipartUpload>";
    const res = await f.call(
      signed("POST", `/tamper/nonote?uploadId=${encodeURIComponent(uploadId)}`, {
        body: new TextEncoder().encode(xml),
      }),
    );
    equal(res.status, 400);
    ok((await res.text()).includes("<Code>InvalidPart</Code>"));
    equal((await f.call(signed("HEAD", "/tamper/nonote"))).status, 404);
  });
});
