/**
 * End to end with the AWS SDK: server-side encryption (issue 8). SSE-S3, SSE-KMS and SSE-C on
 * single PUTs and multipart uploads, range GETs across 64 KiB package and part boundaries, copies
 * between modes, HEAD with and without the SSE-C key, wrong keys, bucket default encryption, and
 * no plaintext (nor key) anywhere on the drives. One server with a KMS key for the whole file.
 */
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createHash, createHmac } from "node:crypto";
import { shaleAdmin, startServer, type TestServer } from "./_server.ts";
import { bodyBytes, bytesOf, clientFor, errorCode, md5Hex } from "./_s3.ts";
import { runPythonSuite } from "./clients/_run.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const PACKAGE = 64 * KiB;
const SEED = Number(Deno.env.get("SHALE_SEED") ?? Date.now() % 1_000_000);
console.log(`e2e_sse_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const MASTER = crypto.getRandomValues(new Uint8Array(32));

type CustomerKey = {
  SSECustomerAlgorithm: "AES256";
  SSECustomerKey: string;
  SSECustomerKeyMD5: string;
};
function customerKey(): { raw: Uint8Array; params: CustomerKey } {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return {
    raw,
    params: {
      SSECustomerAlgorithm: "AES256",
      SSECustomerKey: b64(raw),
      SSECustomerKeyMD5: createHash("md5").update(raw).digest("base64"),
    },
  };
}
function copySourceKey(k: CustomerKey) {
  return {
    CopySourceSSECustomerAlgorithm: k.SSECustomerAlgorithm,
    CopySourceSSECustomerKey: k.SSECustomerKey,
    CopySourceSSECustomerKeyMD5: k.SSECustomerKeyMD5,
  };
}

async function getBytes(
  s3: S3Client,
  input:
    & { Bucket: string; Key: string; Range?: string; PartNumber?: number }
    & Partial<
      CustomerKey
    >,
): Promise<Uint8Array> {
  const r = await s3.send(new GetObjectCommand(input));
  return await bodyBytes(r.Body);
}

/** Ranges that start and end on, just before and just after 64 KiB package boundaries. */
function boundaryRanges(size: number, random: () => number): Array<[number, number]> {
  const out: Array<[number, number]> = [[0, size - 1], [0, 0], [size - 1, size - 1]];
  for (const at of [PACKAGE - 1, PACKAGE, PACKAGE + 1, 2 * PACKAGE, 5 * MiB - 1, 5 * MiB]) {
    if (at + 2 <= size) out.push([at, Math.min(size - 1, at + PACKAGE + 1)], [at - 1, at]);
  }
  for (let i = 0; i < 6; i++) {
    const a = Math.floor(random() * size);
    const b = a + Math.floor(random() * Math.min(size - a, 3 * PACKAGE));
    out.push([a, Math.min(b, size - 1)]);
  }
  return out.filter(([a, b]) => a >= 0 && b < size && a <= b);
}

async function checkRanges(
  s3: S3Client,
  where: { Bucket: string; Key: string } & Partial<CustomerKey>,
  body: Uint8Array,
  random: () => number,
): Promise<void> {
  for (const [a, b] of boundaryRanges(body.length, random)) {
    const got = await getBytes(s3, { ...where, Range: `bytes=${a}-${b}` });
    equal(got.length, b - a + 1, `range ${a}-${b} length`);
    ok(got.every((x, i) => x === body[a + i]), `range ${a}-${b} of ${where.Key} differs`);
  }
}

/** Every file under the drive folders. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await filesUnder(p));
    else if (e.isFile) out.push(p);
  }
  return out;
}

/**
 * Every (secret, offset) where a 32-byte window of a secret occurs in `data`. Such a window always
 * holds one of the secret's 16-byte blocks at a 16-aligned offset, so those blocks are looked for
 * at every offset of `data` (indexed by their first 4 bytes, then compared whole), in one pass.
 */
function windowFinder(
  secrets: Array<[string, Uint8Array]>,
): (data: Uint8Array) => Array<[string, number]> {
  const index = new Map<number, Array<[number, number]>>();
  secrets.forEach(([, secret], s) => {
    const sv = new DataView(secret.buffer, secret.byteOffset, secret.byteLength);
    for (let j = 0; j + 16 <= secret.length; j += 16) {
      const k = sv.getUint32(j);
      const list = index.get(k);
      if (list === undefined) index.set(k, [[s, j]]);
      else list.push([s, j]);
    }
  });
  // A bit per value of the first 4 bytes' top 27 bits: most offsets are ruled out without a Map.
  const bits = new Uint8Array(2 ** 24);
  for (const k of index.keys()) bits[k >>> 8]! |= 1 << ((k >>> 5) & 7);
  return (data) => {
    const found: Array<[string, number]> = [];
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i + 16 <= data.length; i++) {
      const k = dv.getUint32(i);
      if ((bits[k >>> 8]! & (1 << ((k >>> 5) & 7))) === 0) continue;
      const list = index.get(k);
      if (list === undefined) continue;
      for (const [s, j] of list) {
        const secret = secrets[s]![1];
        let same = true;
        for (let t = 4; t < 16 && same; t++) same = data[i + t] === secret[j + t];
        if (same) found.push([secrets[s]![0], i]);
      }
    }
    return found;
  };
}

async function assertNotOnDisk(server: TestServer, secrets: Map<string, Uint8Array>) {
  let files = 0;
  const find = windowFinder([...secrets]);
  for (const drive of server.drivePaths) {
    for (const path of await filesUnder(drive)) {
      files++;
      deepEqual(find(await Deno.readFile(path)), [], `in ${path}`);
    }
  }
  ok(files > 0, "no files on the drives");
}

Deno.test({
  name: "the AWS SDK stores and reads SSE-S3, SSE-KMS and SSE-C objects end to end",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({
      drives: 4,
      env: { SHALE_KMS_SECRET_KEY: `shale-test-key:${b64(MASTER)}` },
    });
    const s3 = clientFor(server);
    const bucket = "sse-e2e";
    const random = rng(SEED);
    // Bodies: inline-sized (under 128 KiB), several packages, and not a multiple of 64 KiB.
    const small = bytesOf(100 * KiB + 3, SEED);
    const medium = bytesOf(3 * MiB + 12345, SEED + 1);
    const onDisk = new Map<string, Uint8Array>([
      ["small body", small],
      ["medium body", medium],
      ["KMS master key", MASTER],
    ]);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));

      await t.step(
        "SSE-S3: ETag is the plaintext MD5, HEAD and listings show plaintext sizes",
        async () => {
          const put = await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: "s3/medium",
              Body: medium,
              ServerSideEncryption: "AES256",
            }),
          );
          equal(put.ServerSideEncryption, "AES256");
          equal(put.ETag, `"${await md5Hex(medium)}"`);
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "s3/medium" }));
          equal(head.ContentLength, medium.length);
          equal(head.ServerSideEncryption, "AES256");
          equal(head.ETag, put.ETag);
          deepEqual(head.Metadata, {});
          deepEqual(await getBytes(s3, { Bucket: bucket, Key: "s3/medium" }), medium);
          await checkRanges(s3, { Bucket: bucket, Key: "s3/medium" }, medium, random);
          const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "s3/" }));
          deepEqual(list.Contents?.map((o) => [o.Key, o.Size]), [["s3/medium", medium.length]]);
          await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: "s3/small",
              Body: small,
              ServerSideEncryption: "AES256",
            }),
          );
          deepEqual(await getBytes(s3, { Bucket: bucket, Key: "s3/small" }), small);
        },
      );

      await t.step(
        "SSE-KMS: named and default keys, encryption context, not-MD5 ETag",
        async () => {
          const context = b64(new TextEncoder().encode(JSON.stringify({ project: "shale" })));
          const put = await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: "kms/medium",
              Body: medium,
              ServerSideEncryption: "aws:kms",
              SSEKMSKeyId: "shale-test-key",
              SSEKMSEncryptionContext: context,
            }),
          );
          equal(put.ServerSideEncryption, "aws:kms");
          equal(put.SSEKMSKeyId, "arn:aws:kms:shale-test-key");
          ok(/^"[0-9a-f]{32}"$/.test(put.ETag ?? ""), `ETag ${put.ETag}`);
          notEqual(put.ETag, `"${await md5Hex(medium)}"`);
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "kms/medium" }));
          equal(head.SSEKMSKeyId, "arn:aws:kms:shale-test-key");
          equal(head.ETag, put.ETag);
          equal(head.ContentLength, medium.length);
          await checkRanges(s3, { Bucket: bucket, Key: "kms/medium" }, medium, random);
          // No key id: the default key; an ARN naming the key works too.
          const byDefault = await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: "kms/small",
              Body: small,
              ServerSideEncryption: "aws:kms",
            }),
          );
          equal(byDefault.SSEKMSKeyId, "arn:aws:kms:shale-test-key");
          deepEqual(await getBytes(s3, { Bucket: bucket, Key: "kms/small" }), small);
          equal(
            await errorCode(
              s3.send(
                new PutObjectCommand({
                  Bucket: bucket,
                  Key: "kms/nokey",
                  Body: small,
                  ServerSideEncryption: "aws:kms",
                  SSEKMSKeyId: "no-such-key",
                }),
              ),
            ),
            "KMS.NotFoundException",
          );
        },
      );

      const k1 = customerKey();
      const k2 = customerKey();
      onDisk.set("SSE-C key 1", k1.raw);
      onDisk.set("SSE-C key 2", k2.raw);

      await t.step("SSE-C: the key reads it; no key is 400, a wrong key 403", async () => {
        const put = await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: "c/medium", Body: medium, ...k1.params }),
        );
        equal(put.SSECustomerAlgorithm, "AES256");
        equal(put.SSECustomerKeyMD5, k1.params.SSECustomerKeyMD5);
        notEqual(put.ETag, `"${await md5Hex(medium)}"`);
        const where = { Bucket: bucket, Key: "c/medium" };
        const head = await s3.send(new HeadObjectCommand({ ...where, ...k1.params }));
        equal(head.ContentLength, medium.length);
        equal(head.SSECustomerKeyMD5, k1.params.SSECustomerKeyMD5);
        deepEqual(await getBytes(s3, { ...where, ...k1.params }), medium);
        await checkRanges(s3, { ...where, ...k1.params }, medium, random);
        equal(await errorCode(s3.send(new HeadObjectCommand(where))), "400");
        // GetObjectAttributes too: the key is needed, another key is refused.
        const attributes = { ...where, ObjectAttributes: ["ObjectSize" as const] };
        equal(
          (await s3.send(new GetObjectAttributesCommand({ ...attributes, ...k1.params })))
            .ObjectSize,
          medium.length,
        );
        equal(
          await errorCode(s3.send(new GetObjectAttributesCommand(attributes))),
          "InvalidRequest",
        );
        equal(
          await errorCode(s3.send(new GetObjectAttributesCommand({ ...attributes, ...k2.params }))),
          "AccessDenied",
        );
        equal(await errorCode(s3.send(new GetObjectCommand(where))), "InvalidRequest");
        equal(
          await errorCode(s3.send(new GetObjectCommand({ ...where, ...k2.params }))),
          "AccessDenied",
        );
        equal(await errorCode(s3.send(new HeadObjectCommand({ ...where, ...k2.params }))), "403");
        // A key whose MD5 does not match it (the SDK computes the MD5 itself: sent by hand).
        const mismatched = await fetchSigned(server, "GET", `/${bucket}/c/medium`, "", {
          "x-amz-server-side-encryption-customer-algorithm": "AES256",
          "x-amz-server-side-encryption-customer-key": k1.params.SSECustomerKey,
          "x-amz-server-side-encryption-customer-key-md5": k2.params.SSECustomerKeyMD5,
        });
        equal(mismatched.status, 400);
        ok((await mismatched.text()).includes("<Code>InvalidArgument</Code>"));
        // SSE-C headers on an object that is not SSE-C.
        equal(
          await errorCode(
            s3.send(new GetObjectCommand({ Bucket: bucket, Key: "s3/small", ...k1.params })),
          ),
          "InvalidRequest",
        );
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: "c/small", Body: small, ...k1.params }),
        );
        deepEqual(await getBytes(s3, { Bucket: bucket, Key: "c/small", ...k1.params }), small);
      });

      const parts = [
        bytesOf(5 * MiB, SEED + 2),
        bytesOf(5 * MiB + 7, SEED + 3),
        bytesOf(MiB + 1, SEED + 4),
      ];
      const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (whole.set(p, at), at + p.length), 0);
      onDisk.set("multipart body", whole);

      await t.step(
        "multipart SSE-S3 and SSE-C: parts, ranges across part and package boundaries",
        async () => {
          for (
            const [key, sse] of [["mp/s3", { ServerSideEncryption: "AES256" as const }], [
              "mp/c",
              k1.params,
            ]] as const
          ) {
            const created = await s3.send(
              new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...sse }),
            );
            const etags: string[] = [];
            for (let i = 0; i < parts.length; i++) {
              const r = await s3.send(
                new UploadPartCommand({
                  Bucket: bucket,
                  Key: key,
                  UploadId: created.UploadId,
                  PartNumber: i + 1,
                  Body: parts[i]!,
                  ...("SSECustomerKey" in sse ? sse : {}),
                }),
              );
              etags.push(r.ETag ?? "");
            }
            if ("SSECustomerKey" in sse) {
              // A part with another key is refused (400, as AWS).
              equal(
                await errorCode(
                  s3.send(
                    new UploadPartCommand({
                      Bucket: bucket,
                      Key: key,
                      UploadId: created.UploadId,
                      PartNumber: 9,
                      Body: parts[2]!,
                      ...k2.params,
                    }),
                  ),
                ),
                "InvalidRequest",
              );
            } else {
              equal(etags[0], `"${await md5Hex(parts[0]!)}"`);
            }
            const complete = {
              Bucket: bucket,
              Key: key,
              UploadId: created.UploadId,
              MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
            };
            if ("SSECustomerKey" in sse) {
              // A key on the completion must be the upload's (the SDK sends it; none is fine too).
              equal(
                await errorCode(
                  s3.send(new CompleteMultipartUploadCommand({ ...complete, ...k2.params })),
                ),
                "InvalidRequest",
              );
            }
            const done = await s3.send(
              new CompleteMultipartUploadCommand({
                ...complete,
                ...("SSECustomerKey" in sse ? sse : {}),
              }),
            );
            ok(/^"[0-9a-f]{32}-3"$/.test(done.ETag ?? ""), `ETag ${done.ETag}`);
            const keyParams = "SSECustomerKey" in sse ? sse : {};
            const head = await s3.send(
              new HeadObjectCommand({ Bucket: bucket, Key: key, ...keyParams }),
            );
            equal(head.ContentLength, whole.length);
            deepEqual(await getBytes(s3, { Bucket: bucket, Key: key, ...keyParams }), whole);
            await checkRanges(s3, { Bucket: bucket, Key: key, ...keyParams }, whole, random);
            const part2 = await getBytes(s3, {
              Bucket: bucket,
              Key: key,
              PartNumber: 2,
              ...keyParams,
            });
            deepEqual(part2, parts[1]);
          }
        },
      );

      await t.step("lib-storage uploads an SSE-KMS multipart object", async () => {
        const body = bytesOf(12 * MiB + 5, SEED + 5);
        await new Upload({
          client: s3,
          params: { Bucket: bucket, Key: "mp/kms", Body: body, ServerSideEncryption: "aws:kms" },
          partSize: 5 * MiB,
          queueSize: 2,
        }).done();
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "mp/kms" }));
        equal(head.ServerSideEncryption, "aws:kms");
        equal(head.ContentLength, body.length);
        deepEqual(await getBytes(s3, { Bucket: bucket, Key: "mp/kms" }), body);
      });

      await t.step(
        "copies between modes: plain, SSE-S3, SSE-C, SSE-KMS, SSE-C with a new key",
        async () => {
          // The chain starts from a plain object, so its body is stored in clear (not in onDisk).
          const medium = bytesOf(200 * KiB + 9, SEED + 7);
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "cp/plain", Body: medium }));
          const steps: Array<[string, string, Record<string, unknown>, Record<string, unknown>]> = [
            ["cp/plain", "cp/s3", {}, { ServerSideEncryption: "AES256" }],
            ["cp/s3", "cp/c", {}, k1.params],
            ["cp/c", "cp/kms", copySourceKey(k1.params), { ServerSideEncryption: "aws:kms" }],
            ["cp/c", "cp/c2", copySourceKey(k1.params), k2.params],
          ];
          for (const [from, to, source, dest] of steps) {
            const r = await s3.send(
              new CopyObjectCommand({
                Bucket: bucket,
                Key: to,
                CopySource: `${bucket}/${from}`,
                ...source,
                ...dest,
              }),
            );
            ok(r.CopyObjectResult?.ETag, `copy ${from} -> ${to}`);
          }
          deepEqual(await getBytes(s3, { Bucket: bucket, Key: "cp/s3" }), medium);
          equal(
            (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "cp/s3" })))
              .ServerSideEncryption,
            "AES256",
          );
          deepEqual(await getBytes(s3, { Bucket: bucket, Key: "cp/c", ...k1.params }), medium);
          deepEqual(await getBytes(s3, { Bucket: bucket, Key: "cp/kms" }), medium);
          deepEqual(await getBytes(s3, { Bucket: bucket, Key: "cp/c2", ...k2.params }), medium);
          equal(
            await errorCode(
              s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cp/c2", ...k1.params })),
            ),
            "AccessDenied",
          );
          // A copy of an SSE-C source without its key fails.
          equal(
            await errorCode(
              s3.send(
                new CopyObjectCommand({
                  Bucket: bucket,
                  Key: "cp/x",
                  CopySource: `${bucket}/cp/c`,
                }),
              ),
            ),
            "InvalidRequest",
          );
          // Onto itself with a new mode: re-encrypted in place.
          await s3.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: "cp/c",
              CopySource: `${bucket}/cp/c`,
              ...copySourceKey(k1.params),
              ServerSideEncryption: "AES256",
            }),
          );
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "cp/c" }));
          equal(head.ServerSideEncryption, "AES256");
          deepEqual(await getBytes(s3, { Bucket: bucket, Key: "cp/c" }), medium);
        },
      );

      await t.step("UploadPartCopy decrypts an SSE-C source into an SSE-KMS upload", async () => {
        const created = await s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: "mp/copy",
            ServerSideEncryption: "aws:kms",
          }),
        );
        const p1 = await s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: "mp/copy",
            UploadId: created.UploadId,
            PartNumber: 1,
            CopySource: `${bucket}/mp/c`,
            CopySourceRange: `bytes=0-${5 * MiB - 1}`,
            ...copySourceKey(k1.params),
          }),
        );
        const p2 = await s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: "mp/copy",
            UploadId: created.UploadId,
            PartNumber: 2,
            CopySource: `${bucket}/s3/medium`,
            CopySourceRange: `bytes=${PACKAGE - 5}-${2 * PACKAGE + 9}`,
          }),
        );
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: "mp/copy",
            UploadId: created.UploadId,
            MultipartUpload: {
              Parts: [
                { ETag: p1.CopyPartResult?.ETag ?? "", PartNumber: 1 },
                { ETag: p2.CopyPartResult?.ETag ?? "", PartNumber: 2 },
              ],
            },
          }),
        );
        const expected = new Uint8Array([
          ...whole.subarray(0, 5 * MiB),
          ...medium.subarray(PACKAGE - 5, 2 * PACKAGE + 10),
        ]);
        deepEqual(await getBytes(s3, { Bucket: bucket, Key: "mp/copy" }), expected);
      });

      await t.step(
        "S3 Bucket Key: accepted with aws:kms, stored and echoed by every SSE-KMS response",
        async () => {
          const kms = { ServerSideEncryption: "aws:kms" as const, BucketKeyEnabled: true };
          const put = await s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: "bk/one", Body: small, ...kms }),
          );
          equal(put.BucketKeyEnabled, true);
          const where = { Bucket: bucket, Key: "bk/one" };
          equal((await s3.send(new HeadObjectCommand(where))).BucketKeyEnabled, true);
          const got = await s3.send(new GetObjectCommand(where));
          equal(got.BucketKeyEnabled, true);
          deepEqual(await bodyBytes(got.Body), small);
          // false (or no header) is stored as no bucket key: AWS leaves the header out then.
          const off = await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: "bk/off",
              Body: small,
              ServerSideEncryption: "aws:kms",
              BucketKeyEnabled: false,
            }),
          );
          equal(off.BucketKeyEnabled, undefined);
          equal(
            (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "bk/off" })))
              .BucketKeyEnabled,
            undefined,
          );
          const copied = await s3.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: "bk/copy",
              CopySource: `${bucket}/bk/off`,
              ...kms,
            }),
          );
          equal(copied.BucketKeyEnabled, true);
          equal(
            (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "bk/copy" })))
              .BucketKeyEnabled,
            true,
          );
          const created = await s3.send(
            new CreateMultipartUploadCommand({ Bucket: bucket, Key: "bk/mp", ...kms }),
          );
          equal(created.BucketKeyEnabled, true);
          const upload = { Bucket: bucket, Key: "bk/mp", UploadId: created.UploadId };
          const p1 = await s3.send(
            new UploadPartCommand({ ...upload, PartNumber: 1, Body: parts[0]! }),
          );
          equal(p1.BucketKeyEnabled, true);
          const p2 = await s3.send(
            new UploadPartCopyCommand({
              ...upload,
              PartNumber: 2,
              CopySource: `${bucket}/bk/off`,
            }),
          );
          equal(p2.BucketKeyEnabled, true);
          const done = await s3.send(
            new CompleteMultipartUploadCommand({
              ...upload,
              MultipartUpload: {
                Parts: [
                  { PartNumber: 1, ETag: p1.ETag ?? "" },
                  { PartNumber: 2, ETag: p2.CopyPartResult?.ETag ?? "" },
                ],
              },
            }),
          );
          equal(done.BucketKeyEnabled, true);
          const mp = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "bk/mp" }));
          equal(mp.BucketKeyEnabled, true);
          equal(mp.ContentLength, parts[0]!.length + small.length);
          // Only true and false; the SDK sends a boolean, so by hand.
          const bad = await fetchSigned(server, "PUT", `/${bucket}/bk/bad`, "x", {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-bucket-key-enabled": "yes",
          });
          equal(bad.status, 400);
          ok((await bad.text()).includes("<Code>InvalidArgument</Code>"));
          // The bucket rule's BucketKeyEnabled: stored, returned, inherited by SSE-KMS writes.
          const b3 = "sse-bucket-key";
          await s3.send(new CreateBucketCommand({ Bucket: b3 }));
          await s3.send(
            new PutBucketEncryptionCommand({
              Bucket: b3,
              ServerSideEncryptionConfiguration: {
                Rules: [{
                  ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" },
                  BucketKeyEnabled: true,
                }],
              },
            }),
          );
          const rule = (await s3.send(new GetBucketEncryptionCommand({ Bucket: b3 })))
            .ServerSideEncryptionConfiguration?.Rules?.[0];
          equal(rule?.BucketKeyEnabled, true);
          equal(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, "aws:kms");
          const inherited = await s3.send(
            new PutObjectCommand({ Bucket: b3, Key: "plain", Body: small }),
          );
          equal(inherited.ServerSideEncryption, "aws:kms");
          equal(inherited.BucketKeyEnabled, true);
          const overridden = await s3.send(
            new PutObjectCommand({ Bucket: b3, Key: "off", Body: small, BucketKeyEnabled: false }),
          );
          equal(overridden.BucketKeyEnabled, undefined);
          // SSE-S3 ignores it (it is an SSE-KMS setting).
          const s3put = await s3.send(
            new PutObjectCommand({
              Bucket: b3,
              Key: "aes",
              Body: small,
              ServerSideEncryption: "AES256",
              BucketKeyEnabled: true,
            }),
          );
          equal(s3put.ServerSideEncryption, "AES256");
          equal(s3put.BucketKeyEnabled, undefined);
        },
      );

      await t.step(
        "bucket default encryption: put, get, applied to plain PUTs, deleted",
        async () => {
          const b2 = "sse-default";
          await s3.send(new CreateBucketCommand({ Bucket: b2 }));
          equal(
            await errorCode(s3.send(new GetBucketEncryptionCommand({ Bucket: b2 }))),
            "ServerSideEncryptionConfigurationNotFoundError",
          );
          await s3.send(
            new PutBucketEncryptionCommand({
              Bucket: b2,
              ServerSideEncryptionConfiguration: {
                Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
              },
            }),
          );
          const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b2 }));
          equal(
            got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
              ?.SSEAlgorithm,
            "AES256",
          );
          const put = await s3.send(
            new PutObjectCommand({ Bucket: b2, Key: "plain", Body: small }),
          );
          equal(put.ServerSideEncryption, "AES256");
          equal(
            (await s3.send(new HeadObjectCommand({ Bucket: b2, Key: "plain" })))
              .ServerSideEncryption,
            "AES256",
          );
          deepEqual(await getBytes(s3, { Bucket: b2, Key: "plain" }), small);
          await s3.send(
            new PutBucketEncryptionCommand({
              Bucket: b2,
              ServerSideEncryptionConfiguration: {
                Rules: [{
                  ApplyServerSideEncryptionByDefault: {
                    SSEAlgorithm: "aws:kms",
                    KMSMasterKeyID: "shale-test-key",
                  },
                }],
              },
            }),
          );
          const kms = await s3.send(new PutObjectCommand({ Bucket: b2, Key: "kms", Body: small }));
          equal(kms.ServerSideEncryption, "aws:kms");
          equal(kms.SSEKMSKeyId, "arn:aws:kms:shale-test-key");
          // A browser form upload (PostObject) gets the bucket default too.
          const posted = await postForm(server, b2, "posted", small, {
            "x-amz-server-side-encryption": "aws:kms",
          });
          equal(posted.status, 204, await posted.text());
          equal(posted.headers.get("x-amz-server-side-encryption"), "aws:kms");
          const postedHead = await s3.send(new HeadObjectCommand({ Bucket: b2, Key: "posted" }));
          equal(postedHead.ServerSideEncryption, "aws:kms");
          equal(postedHead.ContentLength, small.length);
          deepEqual(await getBytes(s3, { Bucket: b2, Key: "posted" }), small);
          await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b2 }));
          const after = await s3.send(
            new PutObjectCommand({ Bucket: b2, Key: "after", Body: "stored in clear" }),
          );
          equal(after.ServerSideEncryption, undefined);
          // Malformed configurations are MalformedXML.
          const bad = await fetchSigned(
            server,
            "PUT",
            `/${b2}?encryption`,
            "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>",
          );
          equal(bad.status, 400);
          ok((await bad.text()).includes("<Code>MalformedXML</Code>"));
        },
      );

      await t.step(
        "no plaintext, customer key or master key appears in any file on the drives",
        async () => {
          await assertNotOnDisk(server, onDisk);
        },
      );
    } finally {
      s3.destroy();
      equal(await server.stop(), 0);
    }
  },
});

Deno.test({
  name: "without a KMS key SSE-S3 is 501 NotImplemented while SSE-C works",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startServer({ drives: 1 });
    const s3 = clientFor(server);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "nokms" }));
      equal(
        await errorCode(
          s3.send(
            new PutObjectCommand({
              Bucket: "nokms",
              Key: "k",
              Body: "x",
              ServerSideEncryption: "AES256",
            }),
          ),
        ),
        "NotImplemented",
      );
      const k = customerKey();
      await s3.send(
        new PutObjectCommand({ Bucket: "nokms", Key: "c", Body: "secret", ...k.params }),
      );
      deepEqual(
        new TextDecoder().decode(await getBytes(s3, { Bucket: "nokms", Key: "c", ...k.params })),
        "secret",
      );
    } finally {
      s3.destroy();
      equal(await server.stop(), 0);
    }
  },
});

/** A SigV4-signed request the SDK cannot send (a malformed document). */
async function fetchSigned(
  server: TestServer,
  method: string,
  path: string,
  body: string,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const { signRequestForTest } = await import("../src/auth/testing.ts");
  const url = new URL(server.endpoint);
  const [rawPath, rawQuery = ""] = path.split("?");
  const payload = new TextEncoder().encode(body);
  const hash = createHash("sha256").update(payload).digest("hex");
  const headers = new Headers({ host: url.host, ...extraHeaders });
  const signed = signRequestForTest(
    { method, rawPath: rawPath!, rawQuery, headers },
    {
      accessKey: server.accessKey,
      secretKey: server.secretKey,
      region: server.region,
      payloadHash: hash,
    },
  );
  return await fetch(`${server.endpoint}${path}`, {
    method,
    headers: signed.headers,
    ...(method === "GET" ? {} : { body: payload }),
  });
}

Deno.test({
  name: "boto3 stores and reads SSE-S3, SSE-KMS and SSE-C objects, single and multipart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const suite = new URL("./clients/boto3_sse_suite.py", import.meta.url).pathname;
    const server = await startServer({
      drives: 4,
      env: { SHALE_KMS_SECRET_KEY: `boto-key:${b64(MASTER)}` },
    });
    try {
      const checks = await runPythonSuite(suite, server, "boto3-sse", {
        SHALE_KMS_KEY_ID: "boto-key",
      });
      deepEqual(checks, [
        "creates the bucket",
        "SSE-S3 put, head and ranged get",
        "SSE-KMS put with a key id and get",
        "SSE-C put and get; head without the key is 400, with another key 403",
        "upload_file and download_file multipart with SSE-C, SSE-S3 and SSE-KMS",
        "copy_object from SSE-C to SSE-C with a new key and to SSE-KMS",
        "bucket default encryption applies to a plain put",
      ]);
    } finally {
      equal(await server.stop(), 0);
    }
  },
});

Deno.test({
  name: "a KMS key created and rotated through the admin API encrypts objects across a restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const env = { SHALE_KMS_SECRET_KEY: `root-key:${b64(MASTER)}` };
    let server = await startServer({ drives: 4, env, keepData: true });
    const drivePaths = server.drivePaths;
    const body = bytesOf(PACKAGE + 77, SEED + 11);
    try {
      const created = await fetchSigned(
        server,
        "POST",
        "/minio/admin/v3/kms/key/create?key-id=tenant-a",
        "",
      );
      equal(created.status, 200, await created.text());
      const listed = await fetchSigned(server, "GET", "/minio/admin/v3/kms/key/list", "");
      deepEqual(
        (await listed.json() as Array<{ name: string }>).map((k) => k.name).sort(),
        ["root-key", "tenant-a"],
      );
      const status = await fetchSigned(
        server,
        "GET",
        "/minio/admin/v3/kms/key/status?key-id=tenant-a",
        "",
      );
      deepEqual(await status.json(), { "key-id": "tenant-a" });
      let s3 = clientFor(server);
      await s3.send(new CreateBucketCommand({ Bucket: "tenants" }));
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: "tenants",
          Key: "a",
          Body: body,
          ServerSideEncryption: "aws:kms",
          SSEKMSKeyId: "tenant-a",
        }),
      );
      equal(put.SSEKMSKeyId, "arn:aws:kms:tenant-a");
      // Rotation: a new version of tenant-a; the object's data key is re-sealed under it.
      const rotated = await fetchSigned(
        server,
        "POST",
        "/minio/admin/v3/kms/key/rotate?key-id=tenant-a",
        "",
      );
      const outcome = await rotated.json() as { versions: number[]; resealed: number };
      deepEqual([outcome.versions, outcome.resealed], [[1, 2], 1]);
      deepEqual(await getBytes(s3, { Bucket: "tenants", Key: "a" }), body);
      s3.destroy();
      equal(await server.stop(), 0);
      server = await startServer({ drives: 4, env, drivePaths });
      s3 = clientFor(server);
      deepEqual(await getBytes(s3, { Bucket: "tenants", Key: "a" }), body);
      s3.destroy();
    } finally {
      equal(await server.stop(), 0);
      await Deno.remove(drivePaths[0]!.replace(/\/disk1$/, ""), { recursive: true });
    }
  },
});

/** A browser form upload signed with the root key (as tests/e2e_post_object_test.ts). */
async function postForm(
  server: TestServer,
  bucket: string,
  key: string,
  file: Uint8Array<ArrayBuffer>,
  extra: Record<string, string>,
): Promise<Response> {
  const { signingKeyForTest } = await import("../src/auth/testing.ts");
  const now = new Date();
  const date = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const credential = `${server.accessKey}/${date.slice(0, 8)}/${server.region}/s3/aws4_request`;
  const fields: Record<string, string> = {
    key,
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": credential,
    "x-amz-date": date,
    ...extra,
  };
  const policy = btoa(JSON.stringify({
    expiration: new Date(now.getTime() + 600_000).toISOString(),
    conditions: [{ bucket }, ...Object.entries(fields).map(([k, v]) => ({ [k]: v }))],
  }));
  const signingKey = signingKeyForTest(server.secretKey, now, server.region);
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("policy", policy);
  form.append("x-amz-signature", createHmac("sha256", signingKey).update(policy).digest("hex"));
  form.append("file", new Blob([file]), "upload.bin");
  return await fetch(`${server.endpoint}/${bucket}`, { method: "POST", body: form });
}

Deno.test({
  name: "the aws CLI copies files up and down with --sse AES256, --sse aws:kms and --sse-c",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { preferBinary, runOk } = await import("./clients/_run.ts");
    const aws = preferBinary(["/usr/bin/aws"], "aws");
    const server = await startServer({
      drives: 4,
      env: { SHALE_KMS_SECRET_KEY: `cli-key:${b64(MASTER)}` },
    });
    const dir = await Deno.makeTempDir({ prefix: "shale-awscli-sse-" });
    const env = {
      HOME: dir,
      AWS_ACCESS_KEY_ID: server.accessKey,
      AWS_SECRET_ACCESS_KEY: server.secretKey,
      AWS_DEFAULT_REGION: server.region,
    };
    const cli = (...args: string[]) =>
      runOk(aws, ["--endpoint-url", server.endpoint, ...args], { env, cwd: dir });
    try {
      // 12 MiB: the CLI uploads it in parts (8 MiB chunks) and may download it by ranges.
      const body = bytesOf(12 * MiB + 17, SEED + 21);
      await Deno.writeFile(`${dir}/up.bin`, body);
      const key = crypto.getRandomValues(new Uint8Array(32));
      await Deno.writeFile(`${dir}/key.bin`, key);
      await cli("s3", "mb", "s3://cli-sse");
      const modes: Array<[string, string[], string[]]> = [
        ["s3", ["--sse", "AES256"], []],
        ["kms", ["--sse", "aws:kms", "--sse-kms-key-id", "cli-key"], []],
        ["c", ["--sse-c", "AES256", "--sse-c-key", `fileb://${dir}/key.bin`], [
          "--sse-c",
          "AES256",
          "--sse-c-key",
          `fileb://${dir}/key.bin`,
        ]],
      ];
      for (const [name, up, down] of modes) {
        await cli("s3", "cp", `${dir}/up.bin`, `s3://cli-sse/${name}`, ...up);
        await cli("s3", "cp", `s3://cli-sse/${name}`, `${dir}/down-${name}.bin`, ...down);
        ok(
          (await Deno.readFile(`${dir}/down-${name}.bin`)).every((b, i) => b === body[i]),
          `${name} differs`,
        );
      }
      const head = JSON.parse(
        (await cli("s3api", "head-object", "--bucket", "cli-sse", "--key", "kms")).stdout,
      ) as { ContentLength: number; ServerSideEncryption: string; SSEKMSKeyId: string };
      deepEqual(
        [head.ContentLength, head.ServerSideEncryption, head.SSEKMSKeyId],
        [body.length, "aws:kms", "arn:aws:kms:cli-key"],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
      equal(await server.stop(), 0);
    }
  },
});

Deno.test({
  name: "a server keyed by SHALE_KMS_SECRET_KEY_FILE: shale admin kms, the KMS admin API, bad keys",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "shale-kms-file-" });
    const keyFile = `${dir}/kms.key`;
    // As MinIO's MINIO_KMS_SECRET_KEY_FILE: name:base64, a trailing newline is fine.
    await Deno.writeTextFile(keyFile, `file-key:${b64(MASTER)}\n`);
    const server = await startServer({ drives: 4, env: { SHALE_KMS_SECRET_KEY_FILE: keyFile } });
    const s3 = clientFor(server);
    const shale = (...args: string[]) => shaleAdmin(server, ...args);
    try {
      await t.step("GET /minio/admin/v3/kms/status names the key from the file", async () => {
        const res = await fetchSigned(server, "GET", "/minio/admin/v3/kms/status", "");
        equal(res.status, 200);
        deepEqual(await res.json(), { backend: "builtin", defaultKeyId: "file-key", keys: 1 });
        // Unsigned: refused.
        equal((await fetch(`${server.endpoint}/minio/admin/v3/kms/status`)).status, 403);
      });

      await t.step("shale admin kms key create, list and status", async () => {
        const created = await shale("kms", "key", "create", "tenant-b");
        equal(created.code, 0, created.stderr);
        equal((JSON.parse(created.stdout) as { name: string }).name, "tenant-b");
        const listed = await shale("kms", "key", "list");
        equal(listed.code, 0, listed.stderr);
        deepEqual(
          (JSON.parse(listed.stdout) as Array<{ name: string; isDefault: boolean }>)
            .map((k) => [k.name, k.isDefault]).sort(),
          [["file-key", true], ["tenant-b", false]],
        );
        const status = await shale("kms", "key", "status", "tenant-b");
        equal(status.code, 0, status.stderr);
        deepEqual(JSON.parse(status.stdout), { "key-id": "tenant-b" });
        const defaultStatus = await shale("kms", "key", "status");
        deepEqual(JSON.parse(defaultStatus.stdout), { "key-id": "file-key" });
        const overall = await shale("kms", "status");
        deepEqual(JSON.parse(overall.stdout), {
          backend: "builtin",
          defaultKeyId: "file-key",
          keys: 2,
        });
        const missing = await shale("kms", "key", "status", "no-such-key");
        equal(missing.code, 1);
        ok(missing.stderr.includes("404") && missing.stderr.includes("KMS.NotFoundException"));
        const again = await shale("kms", "key", "create", "tenant-b");
        equal(again.code, 1);
        ok(again.stderr.includes("KMS.AlreadyExistsException"), again.stderr);
        const usage = await shale("kms", "key", "create");
        equal(usage.code, 2);
      });

      await t.step("objects encrypt under the file's key and the created one", async () => {
        await s3.send(new CreateBucketCommand({ Bucket: "filekms" }));
        const body = bytesOf(PACKAGE + 3, SEED + 31);
        for (
          const [key, sse] of [
            ["s3", { ServerSideEncryption: "AES256" as const }],
            ["kms", { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: "tenant-b" }],
          ] as const
        ) {
          await s3.send(new PutObjectCommand({ Bucket: "filekms", Key: key, Body: body, ...sse }));
          deepEqual(await getBytes(s3, { Bucket: "filekms", Key: key }), body);
        }
        equal(
          (await s3.send(new HeadObjectCommand({ Bucket: "filekms", Key: "kms" }))).SSEKMSKeyId,
          "arn:aws:kms:tenant-b",
        );
      });

      await t.step(
        "an unknown KMS key is KMS.NotFoundException on PutBucketEncryption and CreateMultipartUpload",
        async () => {
          const unknown = { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: "no-such-key" };
          equal(
            await errorCode(
              s3.send(
                new PutBucketEncryptionCommand({
                  Bucket: "filekms",
                  ServerSideEncryptionConfiguration: {
                    Rules: [{
                      ApplyServerSideEncryptionByDefault: {
                        SSEAlgorithm: "aws:kms",
                        KMSMasterKeyID: "no-such-key",
                      },
                    }],
                  },
                }),
              ),
            ),
            "KMS.NotFoundException",
          );
          equal(
            await errorCode(s3.send(new GetBucketEncryptionCommand({ Bucket: "filekms" }))),
            "ServerSideEncryptionConfigurationNotFoundError",
          );
          const create = s3.send(
            new CreateMultipartUploadCommand({ Bucket: "filekms", Key: "mp", ...unknown }),
          );
          equal(await errorCode(create), "KMS.NotFoundException");
          // The status is 400, as AWS.
          const raw = await fetchSigned(server, "POST", "/filekms/mp?uploads", "", {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": "no-such-key",
          });
          equal(raw.status, 400);
          ok((await raw.text()).includes("<Code>KMS.NotFoundException</Code>"));
        },
      );

      await t.step("a wrong copy-source SSE-C key is 403 AccessDenied", async () => {
        const k1 = customerKey();
        const k2 = customerKey();
        const body = bytesOf(5 * MiB + 9, SEED + 32);
        await s3.send(
          new PutObjectCommand({ Bucket: "filekms", Key: "c", Body: body, ...k1.params }),
        );
        equal(
          await errorCode(
            s3.send(
              new CopyObjectCommand({
                Bucket: "filekms",
                Key: "c-copy",
                CopySource: "filekms/c",
                ...copySourceKey(k2.params),
              }),
            ),
          ),
          "AccessDenied",
        );
        const created = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: "filekms", Key: "c-mp" }),
        );
        equal(
          await errorCode(
            s3.send(
              new UploadPartCopyCommand({
                Bucket: "filekms",
                Key: "c-mp",
                UploadId: created.UploadId,
                PartNumber: 1,
                CopySource: "filekms/c",
                ...copySourceKey(k2.params),
              }),
            ),
          ),
          "AccessDenied",
        );
        // The right key copies.
        await s3.send(
          new CopyObjectCommand({
            Bucket: "filekms",
            Key: "c-copy",
            CopySource: "filekms/c",
            ...copySourceKey(k1.params),
          }),
        );
        deepEqual(await getBytes(s3, { Bucket: "filekms", Key: "c-copy" }), body);
      });
    } finally {
      s3.destroy();
      equal(await server.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
