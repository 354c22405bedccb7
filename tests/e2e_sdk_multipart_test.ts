/**
 * End to end with the AWS SDK: multipart uploads (low-level calls and @aws-sdk/lib-storage with a
 * 50 MiB body), presigned URLs used with plain fetch, bucket tagging, CORS, ACL answers and
 * NotImplemented for subresources Shale does not build. One server for the whole file.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteBucketTaggingCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketTaggingCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createHash } from "node:crypto";
import { startServer } from "./_server.ts";
import { bodyBytes, bytesOf, clientFor, errorCode, md5Hex } from "./_s3.ts";
import { createHasher, fromBase64, toBase64 } from "../src/util/checksums.ts";

const MiB = 1024 * 1024;

function multipartEtag(parts: Uint8Array[]): string {
  const md5s = parts.map((p) => createHash("md5").update(p).digest());
  return `"${createHash("md5").update(Buffer.concat(md5s)).digest("hex")}-${parts.length}"`;
}

Deno.test({
  name: "the AWS SDK drives multipart uploads, presigned URLs, tagging and CORS end to end",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({ drives: 4 });
    const s3 = clientFor(server);
    const bucket = "sdk-multipart";
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));

      await t.step("uploads, lists, completes and reads back a three-part upload", async () => {
        const parts = [bytesOf(5 * MiB, 1), bytesOf(5 * MiB, 2), bytesOf(MiB + 1, 3)];
        const { UploadId } = await s3.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: "mp",
            ContentType: "video/mp4",
            Metadata: { m: "1" },
          }),
        );
        ok(UploadId);
        const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        ok(uploads.Uploads?.some((u) => u.UploadId === UploadId && u.Key === "mp"));
        const etags: string[] = [];
        for (let i = 0; i < parts.length; i++) {
          const r: { ETag?: string | undefined } = await s3.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: "mp",
              UploadId,
              PartNumber: i + 1,
              Body: parts[i]!,
            }),
          );
          equal(r.ETag, `"${await md5Hex(parts[i]!)}"`);
          etags.push(r.ETag!);
        }
        const listed = await s3.send(
          new ListPartsCommand({ Bucket: bucket, Key: "mp", UploadId, MaxParts: 2 }),
        );
        deepEqual(listed.Parts?.map((p) => p.PartNumber), [1, 2]);
        equal(listed.IsTruncated, true);
        const rest = await s3.send(
          new ListPartsCommand({
            Bucket: bucket,
            Key: "mp",
            UploadId,
            PartNumberMarker: listed.NextPartNumberMarker,
          }),
        );
        deepEqual(rest.Parts?.map((p) => [p.PartNumber, p.Size]), [[3, MiB + 1]]);
        const done = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: "mp",
            UploadId,
            MultipartUpload: {
              Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })),
            },
          }),
        );
        equal(done.ETag, multipartEtag(parts));
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "mp" }));
        equal(got.ContentType, "video/mp4");
        deepEqual(got.Metadata, { m: "1" });
        const all = await bodyBytes(got.Body);
        equal(all.length, 11 * MiB + 1);
        deepEqual(all.slice(5 * MiB, 5 * MiB + 100), parts[1]!.slice(0, 100));
        deepEqual(all.slice(10 * MiB), parts[2]);
        const part2 = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: "mp", PartNumber: 2 }),
        );
        equal(part2.PartsCount, 3);
        equal(part2.ContentRange, `bytes ${5 * MiB}-${10 * MiB - 1}/${11 * MiB + 1}`);
        deepEqual(await bodyBytes(part2.Body), parts[1]);
        equal(
          await errorCode(
            s3.send(new GetObjectCommand({ Bucket: bucket, Key: "mp", PartNumber: 4 })),
          ),
          "InvalidPartNumber",
        );
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "single", Body: "whole" }));
        const single = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: "single", PartNumber: 1 }),
        );
        equal(single.$metadata.httpStatusCode, 206);
        equal(single.ContentRange, "bytes 0-4/5");
        equal(single.PartsCount, undefined);
        equal(new TextDecoder().decode(await bodyBytes(single.Body)), "whole");
        equal(
          await errorCode(
            s3.send(new GetObjectCommand({ Bucket: bucket, Key: "single", PartNumber: 2 })),
          ),
          "InvalidPartNumber",
        );
        const attrs = await s3.send(
          new GetObjectAttributesCommand({
            Bucket: bucket,
            Key: "mp",
            ObjectAttributes: ["ObjectParts", "ObjectSize", "ETag"],
          }),
        );
        equal(attrs.ObjectParts?.TotalPartsCount, 3);
        equal(attrs.ObjectSize, 11 * MiB + 1);
        equal(`"${attrs.ETag}"`, done.ETag);
      });

      await t.step("refuses small parts, bad ETags, wrong order and unknown uploads", async () => {
        const { UploadId } = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: bucket, Key: "bad" }),
        );
        const small = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: "bad", UploadId, PartNumber: 1, Body: "x" }),
        );
        const last = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: "bad", UploadId, PartNumber: 2, Body: "y" }),
        );
        const complete = (Parts: Array<{ ETag: string; PartNumber: number }>) =>
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: "bad",
              UploadId,
              MultipartUpload: { Parts },
            }),
          );
        equal(
          await errorCode(
            complete([{ ETag: small.ETag!, PartNumber: 1 }, { ETag: last.ETag!, PartNumber: 2 }]),
          ),
          "EntityTooSmall",
        );
        equal(
          await errorCode(complete([{ ETag: '"0123"', PartNumber: 1 }])),
          "InvalidPart",
        );
        equal(
          await errorCode(
            complete([{ ETag: last.ETag!, PartNumber: 2 }, { ETag: small.ETag!, PartNumber: 1 }]),
          ),
          "InvalidPartOrder",
        );
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: "bad", UploadId }));
        equal(
          await errorCode(
            s3.send(new ListPartsCommand({ Bucket: bucket, Key: "bad", UploadId })),
          ),
          "NoSuchUpload",
        );
        equal(
          await errorCode(
            s3.send(
              new UploadPartCommand({
                Bucket: bucket,
                Key: "bad",
                UploadId,
                PartNumber: 1,
                Body: "z",
              }),
            ),
          ),
          "NoSuchUpload",
        );
      });

      await t.step("copies byte ranges of an object into parts", async () => {
        const source = bytesOf(6 * MiB + 10, 8);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "copy-src", Body: source }));
        const { UploadId } = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: bucket, Key: "copy-dst" }),
        );
        const p1 = await s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: "copy-dst",
            UploadId,
            PartNumber: 1,
            CopySource: `${bucket}/copy-src`,
            CopySourceRange: `bytes=0-${5 * MiB - 1}`,
          }),
        );
        const p2 = await s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: "copy-dst",
            UploadId,
            PartNumber: 2,
            CopySource: `${bucket}/copy-src`,
            CopySourceRange: `bytes=${5 * MiB}-${6 * MiB + 9}`,
          }),
        );
        equal(
          await errorCode(
            s3.send(
              new UploadPartCopyCommand({
                Bucket: bucket,
                Key: "copy-dst",
                UploadId,
                PartNumber: 3,
                CopySource: `${bucket}/copy-src`,
                CopySourceRange: `bytes=0-${7 * MiB}`,
              }),
            ),
          ),
          "InvalidArgument",
        );
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: "copy-dst",
            UploadId,
            MultipartUpload: {
              Parts: [
                { ETag: p1.CopyPartResult!.ETag!, PartNumber: 1 },
                { ETag: p2.CopyPartResult!.ETag!, PartNumber: 2 },
              ],
            },
          }),
        );
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "copy-dst" }));
        deepEqual(await bodyBytes(got.Body), source);
      });

      for (
        const [alg, type] of [
          ["SHA256", "COMPOSITE"],
          ["CRC32", "COMPOSITE"],
          ["CRC32C", "FULL_OBJECT"],
          ["CRC64NVME", "FULL_OBJECT"],
        ] as const
      ) {
        await t.step(`keeps a ${type} ${alg} checksum across a multipart upload`, async () => {
          const key = `mp-checksum-${alg}`;
          const parts = [bytesOf(5 * MiB, 21), bytesOf(1000, 22)];
          const created = await s3.send(
            new CreateMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              ChecksumAlgorithm: alg,
              ChecksumType: type,
            }),
          );
          const field = `Checksum${alg}` as const;
          const done: Array<{ ETag: string; PartNumber: number; [k: string]: unknown }> = [];
          for (let i = 0; i < parts.length; i++) {
            const r = await s3.send(
              new UploadPartCommand({
                Bucket: bucket,
                Key: key,
                UploadId: created.UploadId,
                PartNumber: i + 1,
                Body: parts[i]!,
                ChecksumAlgorithm: alg,
              }),
            );
            ok(r[field], `UploadPart returned ${field}`);
            done.push({ ETag: r.ETag!, PartNumber: i + 1, [field]: r[field] });
          }
          // The whole object's checksum may come with the completion: a wrong one stores nothing.
          const whole = await createHasher(alg);
          if (type === "COMPOSITE") {
            for (const p of done) whole.update(fromBase64(p[field] as string)!);
          } else parts.forEach((p) => whole.update(p));
          const sent = toBase64(whole.digest()) + (type === "COMPOSITE" ? "-2" : "");
          const completeWith = (value: string) =>
            s3.send(
              new CompleteMultipartUploadCommand({
                Bucket: bucket,
                Key: key,
                UploadId: created.UploadId,
                MultipartUpload: { Parts: done },
                [field]: value,
              }),
            );
          const wrong = (sent[0] === "A" ? "B" : "A") + sent.slice(1);
          equal(await errorCode(completeWith(wrong)), "BadDigest");
          equal(
            await errorCode(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))),
            "NotFound",
          );
          const complete = await completeWith(sent);
          ok(complete[field], `CompleteMultipartUpload returned ${field}`);
          equal(complete[field], sent);
          equal(complete.ChecksumType, type);
          if (type === "COMPOSITE") ok(complete[field]!.endsWith("-2"), complete[field]);
          const head = await s3.send(
            new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }),
          );
          equal(head[field], complete[field]);
          equal(head.ChecksumType, type);
        });
      }

      await t.step("completes conditionally with If-None-Match: *", async () => {
        const start = () =>
          s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "cmp" }));
        const finish = async (UploadId: string | undefined) => {
          const p = await s3.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: "cmp",
              UploadId,
              PartNumber: 1,
              Body: "one",
            }),
          );
          return s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: "cmp",
              UploadId,
              IfNoneMatch: "*",
              MultipartUpload: { Parts: [{ ETag: p.ETag!, PartNumber: 1 }] },
            }),
          );
        };
        const first = await start();
        await finish(first.UploadId);
        const second = await start();
        equal(await errorCode(finish(second.UploadId)), "PreconditionFailed");
      });

      await t.step("uploads 50 MiB with lib-storage and reads it back byte-exact", async () => {
        const data = bytesOf(50 * MiB, 50);
        const upload = new Upload({
          client: s3,
          params: { Bucket: bucket, Key: "big/fifty", Body: data },
          partSize: 8 * MiB,
          queueSize: 4,
        });
        const out = await upload.done();
        ok(out.ETag?.endsWith('-7"'), out.ETag);
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "big/fifty" }));
        equal(head.ContentLength, data.length);
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big/fifty" }));
        const back = await bodyBytes(got.Body);
        equal(back.length, data.length);
        equal(await md5Hex(back), await md5Hex(data));
      });

      await t.step("serves presigned GET and PUT URLs to plain fetch", async () => {
        const data = bytesOf(100_000, 4);
        const putUrl = await getSignedUrl(
          s3,
          new PutObjectCommand({ Bucket: bucket, Key: "presigned/a b+c" }),
          { expiresIn: 600 },
        );
        const put = await fetch(putUrl, { method: "PUT", body: data });
        equal(put.status, 200, await put.text());
        const getUrl = await getSignedUrl(
          s3,
          new GetObjectCommand({ Bucket: bucket, Key: "presigned/a b+c" }),
          { expiresIn: 7 * 24 * 3600 },
        );
        const got = await fetch(getUrl);
        equal(got.status, 200);
        deepEqual(new Uint8Array(await got.arrayBuffer()), data);
        const ranged = await fetch(getUrl, { headers: { range: "bytes=10-19" } });
        equal(ranged.status, 206);
        deepEqual(new Uint8Array(await ranged.arrayBuffer()), data.slice(10, 20));
        const tampered = await fetch(getUrl.replace("X-Amz-Signature=", "X-Amz-Signature=0"));
        equal(tampered.status, 403);
        await tampered.body?.cancel();
      });

      await t.step("sets, gets and deletes bucket tags", async () => {
        equal(
          await errorCode(s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))),
          "NoSuchTagSet",
        );
        await s3.send(
          new PutBucketTaggingCommand({
            Bucket: bucket,
            Tagging: { TagSet: [{ Key: "team", Value: "storage" }, { Key: "env", Value: "test" }] },
          }),
        );
        const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
        deepEqual(tags.TagSet, [{ Key: "team", Value: "storage" }, { Key: "env", Value: "test" }]);
        await s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
        equal(
          await errorCode(s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))),
          "NoSuchTagSet",
        );
      });

      await t.step("answers CORS preflights and adds CORS headers to actual requests", async () => {
        equal(
          await errorCode(s3.send(new GetBucketCorsCommand({ Bucket: bucket }))),
          "NoSuchCORSConfiguration",
        );
        const preflight = (origin: string, method: string, headers = "") =>
          fetch(`${server.endpoint}/${bucket}/some/key`, {
            method: "OPTIONS",
            headers: {
              origin,
              "access-control-request-method": method,
              ...(headers ? { "access-control-request-headers": headers } : {}),
            },
          });
        const before = await preflight("https://app.example.com", "PUT");
        equal(before.status, 403);
        ok((await before.text()).includes("<Code>CORSResponse</Code>"));
        await s3.send(
          new PutBucketCorsCommand({
            Bucket: bucket,
            CORSConfiguration: {
              CORSRules: [{
                AllowedOrigins: ["https://*.example.com"],
                AllowedMethods: ["GET", "PUT"],
                AllowedHeaders: ["content-type", "x-amz-*"],
                ExposeHeaders: ["ETag"],
                MaxAgeSeconds: 600,
              }],
            },
          }),
        );
        const cors = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
        deepEqual(cors.CORSRules?.[0]?.AllowedMethods, ["GET", "PUT"]);
        const ok1 = await preflight("https://app.example.com", "PUT", "content-type, x-amz-date");
        equal(ok1.status, 200);
        await ok1.body?.cancel();
        equal(ok1.headers.get("access-control-allow-origin"), "https://app.example.com");
        equal(ok1.headers.get("access-control-allow-methods"), "GET, PUT");
        equal(ok1.headers.get("access-control-max-age"), "600");
        const denied = await preflight("https://evil.test", "PUT");
        equal(denied.status, 403);
        await denied.body?.cancel();
        const deniedMethod = await preflight("https://app.example.com", "DELETE");
        equal(deniedMethod.status, 403);
        await deniedMethod.body?.cancel();
        const getUrl = await getSignedUrl(
          s3,
          new GetObjectCommand({ Bucket: bucket, Key: "presigned/a b+c" }),
        );
        const actual = await fetch(getUrl, { headers: { origin: "https://app.example.com" } });
        equal(actual.status, 200);
        equal(actual.headers.get("access-control-allow-origin"), "https://app.example.com");
        equal(actual.headers.get("access-control-expose-headers"), "ETag");
        await actual.body?.cancel();
        await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
        const gone = await preflight("https://app.example.com", "PUT");
        equal(gone.status, 403);
        await gone.body?.cancel();
      });

      await t.step("answers ACL reads with the owner's FULL_CONTROL", async () => {
        const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
        equal(acl.Grants?.[0]?.Permission, "FULL_CONTROL");
        equal(acl.Grants?.[0]?.Grantee?.Type, "CanonicalUser");
        const objAcl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: "mp" }));
        equal(objAcl.Owner?.ID, acl.Owner?.ID);
      });

      await t.step(
        "answers NotImplemented (501) for versioning, lifecycle and other unbuilt calls",
        async () => {
          equal(
            await errorCode(
              s3.send(
                new PutBucketVersioningCommand({
                  Bucket: bucket,
                  VersioningConfiguration: { Status: "Enabled" },
                }),
              ),
            ),
            "NotImplemented",
          );
          equal(
            await errorCode(
              s3.send(
                new PutBucketLifecycleConfigurationCommand({
                  Bucket: bucket,
                  LifecycleConfiguration: {
                    Rules: [{
                      ID: "r",
                      Status: "Enabled",
                      Filter: { Prefix: "" },
                      Expiration: { Days: 1 },
                    }],
                  },
                }),
              ),
            ),
            "NotImplemented",
          );
        },
      );
    } finally {
      s3.destroy();
      equal(await server.stop(), 0);
    }
  },
});
