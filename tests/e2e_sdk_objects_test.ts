/**
 * End to end with @aws-sdk/client-s3 against the real server: buckets, objects of every size class,
 * reads (Range, partNumber, conditionals, response-* overrides), metadata, copy, delete, attributes,
 * tagging, checksums and listings. One server for the whole file.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from "@aws-sdk/client-s3";
import { startServer } from "./_server.ts";
import { bodyBytes, bytesOf, clientFor, errorCode, md5Hex } from "./_s3.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [0, 1, 128 * KiB - 1, 128 * KiB, MiB + 1, 5 * MiB];

Deno.test({
  name: "the AWS SDK drives buckets and objects end to end",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({ drives: 4 });
    const s3 = clientFor(server);
    const bucket = "sdk-objects";
    try {
      await t.step("creates, heads and lists a bucket", async () => {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        await s3.send(new HeadBucketCommand({ Bucket: bucket }));
        const list = await s3.send(new ListBucketsCommand({}));
        ok(list.Buckets?.some((b) => b.Name === bucket));
        const loc = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
        equal(loc.LocationConstraint ?? "", "");
        const ver = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
        equal(ver.Status, undefined);
      });

      await t.step(
        "pages ListBuckets with prefix, max-buckets and continuation token",
        async () => {
          for (const b of ["page-a", "page-b", "page-c"]) {
            await s3.send(new CreateBucketCommand({ Bucket: b }));
          }
          const first = await s3.send(new ListBucketsCommand({ Prefix: "page-", MaxBuckets: 2 }));
          deepEqual(first.Buckets?.map((b) => b.Name), ["page-a", "page-b"]);
          ok(first.ContinuationToken);
          const rest = await s3.send(
            new ListBucketsCommand({
              Prefix: "page-",
              MaxBuckets: 2,
              ContinuationToken: first.ContinuationToken,
            }),
          );
          deepEqual(rest.Buckets?.map((b) => b.Name), ["page-c"]);
          equal(rest.ContinuationToken, undefined);
        },
      );

      await t.step("answers BucketAlreadyOwnedByYou and NoSuchBucket", async () => {
        equal(
          await errorCode(s3.send(new CreateBucketCommand({ Bucket: bucket }))),
          "BucketAlreadyOwnedByYou",
        );
        equal(
          await errorCode(s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "k" }))),
          "NoSuchBucket",
        );
      });

      for (const size of SIZES) {
        await t.step(`puts and gets ${size} bytes byte-exact with the MD5 ETag`, async () => {
          const data = bytesOf(size, size + 7);
          const key = `sizes/object-${size}`;
          const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
          equal(put.ETag, `"${await md5Hex(data)}"`);
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          equal(got.ContentLength, size);
          equal(got.ETag, put.ETag);
          deepEqual(await bodyBytes(got.Body), data);
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          equal(head.ContentLength, size);
        });
      }

      await t.step("serves Range reads, suffix ranges and 416 beyond the end", async () => {
        const data = bytesOf(MiB + 1, 99);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "range", Body: data }));
        const mid = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: "range", Range: "bytes=1000-1048576" }),
        );
        equal(mid.ContentRange, `bytes 1000-1048576/${MiB + 1}`);
        deepEqual(await bodyBytes(mid.Body), data.slice(1000, 1048577));
        const suffix = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: "range", Range: "bytes=-10" }),
        );
        deepEqual(await bodyBytes(suffix.Body), data.slice(data.length - 10));
        const open = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: "range", Range: "bytes=1048570-" }),
        );
        deepEqual(await bodyBytes(open.Body), data.slice(1048570));
        equal(
          await errorCode(
            s3.send(
              new GetObjectCommand({ Bucket: bucket, Key: "range", Range: "bytes=2000000-" }),
            ),
          ),
          "InvalidRange",
        );
      });

      await t.step("evaluates If-Match, If-None-Match and the date conditions", async () => {
        const put = await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: "cond", Body: "conditional" }),
        );
        const etag = put.ETag!;
        const got = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: "cond", IfMatch: etag }),
        );
        equal(new TextDecoder().decode(await bodyBytes(got.Body)), "conditional");
        equal(
          await errorCode(
            s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cond", IfMatch: '"nope"' })),
          ),
          "PreconditionFailed",
        );
        const notModified = await errorCode(
          s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cond", IfNoneMatch: etag })),
        );
        equal(notModified, "304");
        const future = new Date(Date.now() + 3600_000);
        const past = new Date(Date.now() - 3600_000);
        equal(
          await errorCode(
            s3.send(
              new HeadObjectCommand({ Bucket: bucket, Key: "cond", IfModifiedSince: future }),
            ),
          ),
          "304",
        );
        await s3.send(
          new HeadObjectCommand({ Bucket: bucket, Key: "cond", IfModifiedSince: past }),
        );
        equal(
          await errorCode(
            s3.send(
              new HeadObjectCommand({ Bucket: bucket, Key: "cond", IfUnmodifiedSince: past }),
            ),
          ),
          "412",
        );
      });

      await t.step("writes conditionally with If-None-Match: * and If-Match", async () => {
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: "cw", Body: "first", IfNoneMatch: "*" }),
        );
        equal(
          await errorCode(
            s3.send(
              new PutObjectCommand({ Bucket: bucket, Key: "cw", Body: "second", IfNoneMatch: "*" }),
            ),
          ),
          "PreconditionFailed",
        );
        equal(
          await errorCode(
            s3.send(
              new PutObjectCommand({ Bucket: bucket, Key: "cw", Body: "third", IfMatch: '"0"' }),
            ),
          ),
          "PreconditionFailed",
        );
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "cw" }));
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: "cw", Body: "fourth", IfMatch: head.ETag! }),
        );
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cw" }));
        equal(new TextDecoder().decode(await bodyBytes(got.Body)), "fourth");
      });

      await t.step(
        "keeps user metadata and standard headers, and applies response-* overrides",
        async () => {
          await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: "meta",
              Body: "hello",
              ContentType: "text/plain",
              ContentEncoding: "identity",
              ContentDisposition: 'attachment; filename="a.txt"',
              ContentLanguage: "en",
              CacheControl: "max-age=60",
              Expires: new Date("2030-01-01T00:00:00Z"),
              Metadata: { color: "blue", "multi-word": "x y" },
              StorageClass: "REDUCED_REDUNDANCY",
            }),
          );
          const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "meta" }));
          equal(head.ContentType, "text/plain");
          equal(head.ContentEncoding, "identity");
          equal(head.ContentDisposition, 'attachment; filename="a.txt"');
          equal(head.ContentLanguage, "en");
          equal(head.CacheControl, "max-age=60");
          equal(head.Expires?.toISOString(), "2030-01-01T00:00:00.000Z");
          deepEqual(head.Metadata, { color: "blue", "multi-word": "x y" });
          equal(head.StorageClass, "REDUCED_REDUNDANCY");
          const got = await s3.send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: "meta",
              ResponseContentType: "application/json",
              ResponseContentDisposition: "inline",
              ResponseCacheControl: "no-cache",
            }),
          );
          equal(got.ContentType, "application/json");
          equal(got.ContentDisposition, "inline");
          equal(got.CacheControl, "no-cache");
          await bodyBytes(got.Body);
        },
      );

      await t.step("copies objects across buckets with COPY and REPLACE metadata", async () => {
        await s3.send(new CreateBucketCommand({ Bucket: "sdk-copy-target" }));
        const data = bytesOf(200 * KiB, 5);
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: "src object+&=",
            Body: data,
            ContentType: "image/png",
            Metadata: { a: "1" },
            Tagging: "t=1",
          }),
        );
        const source = `${bucket}/${encodeURIComponent("src object+&=")}`;
        const copied = await s3.send(
          new CopyObjectCommand({ Bucket: "sdk-copy-target", Key: "copy", CopySource: source }),
        );
        equal(copied.CopyObjectResult?.ETag, `"${await md5Hex(data)}"`);
        const head = await s3.send(
          new HeadObjectCommand({ Bucket: "sdk-copy-target", Key: "copy" }),
        );
        equal(head.ContentType, "image/png");
        deepEqual(head.Metadata, { a: "1" });
        equal(head.TagCount, 1);
        await s3.send(
          new CopyObjectCommand({
            Bucket: "sdk-copy-target",
            Key: "copy",
            CopySource: "sdk-copy-target/copy",
            MetadataDirective: "REPLACE",
            ContentType: "text/x-replaced",
            Metadata: { b: "2" },
          }),
        );
        const replaced = await s3.send(
          new GetObjectCommand({ Bucket: "sdk-copy-target", Key: "copy" }),
        );
        equal(replaced.ContentType, "text/x-replaced");
        deepEqual(replaced.Metadata, { b: "2" });
        deepEqual(await bodyBytes(replaced.Body), data);
        equal(
          await errorCode(
            s3.send(
              new CopyObjectCommand({
                Bucket: "sdk-copy-target",
                Key: "copy",
                CopySource: "sdk-copy-target/copy",
              }),
            ),
          ),
          "InvalidRequest",
        );
        equal(
          await errorCode(
            s3.send(
              new CopyObjectCommand({
                Bucket: "sdk-copy-target",
                Key: "copy2",
                CopySource: source,
                CopySourceIfMatch: '"different"',
              }),
            ),
          ),
          "PreconditionFailed",
        );
        equal(
          await errorCode(
            s3.send(
              new CopyObjectCommand({
                Bucket: "sdk-copy-target",
                Key: "copy2",
                CopySource: source,
                CopySourceIfNoneMatch: copied.CopyObjectResult!.ETag!,
              }),
            ),
          ),
          "PreconditionFailed",
        );
        equal(
          await errorCode(
            s3.send(
              new CopyObjectCommand({
                Bucket: "sdk-copy-target",
                Key: "x",
                CopySource: `${bucket}/missing`,
              }),
            ),
          ),
          "NoSuchKey",
        );
      });

      await t.step("tags objects on PUT and with the tagging calls", async () => {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: "tagged",
            Body: "t",
            Tagging: "k1=v1&k%202=v%262",
          }),
        );
        const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "tagged" }));
        deepEqual(tags.TagSet, [{ Key: "k1", Value: "v1" }, { Key: "k 2", Value: "v&2" }]);
        await s3.send(
          new PutObjectTaggingCommand({
            Bucket: bucket,
            Key: "tagged",
            Tagging: { TagSet: [{ Key: "only", Value: "<one>" }] },
          }),
        );
        const after = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "tagged" }));
        deepEqual(after.TagSet, [{ Key: "only", Value: "<one>" }]);
        await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: "tagged" }));
        const none = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "tagged" }));
        deepEqual(none.TagSet ?? [], []);
        const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
        equal(
          await errorCode(
            s3.send(
              new PutObjectTaggingCommand({
                Bucket: bucket,
                Key: "tagged",
                Tagging: { TagSet: eleven },
              }),
            ),
          ),
          "InvalidTag",
        );
      });

      for (const alg of ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"] as const) {
        await t.step(`validates and returns a ${alg} checksum`, async () => {
          const data = bytesOf(300 * KiB, 11);
          const key = `checksum-${alg}`;
          const put = await s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ChecksumAlgorithm: alg }),
          );
          const field = `Checksum${alg}` as const;
          ok(put[field], `PutObject returned ${field}`);
          const head = await s3.send(
            new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }),
          );
          equal(head[field], put[field]);
          const attrs = await s3.send(
            new GetObjectAttributesCommand({
              Bucket: bucket,
              Key: key,
              ObjectAttributes: ["ETag", "Checksum", "ObjectSize", "StorageClass"],
            }),
          );
          equal(attrs.Checksum?.[field], put[field]);
          equal(attrs.ObjectSize, data.length);
          equal(attrs.ETag, await md5Hex(data));
          equal(attrs.StorageClass, "STANDARD");
        });
      }

      await t.step("takes a streamed body sent aws-chunked with a checksum trailer", async () => {
        const data = bytesOf(3 * MiB + 17, 77);
        const { Readable } = await import("node:stream");
        const chunks = Array.from(
          { length: Math.ceil(data.length / 65536) },
          (_, i) => data.subarray(i * 65536, (i + 1) * 65536),
        );
        const put = await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: "streamed",
            Body: Readable.from(chunks),
            ContentLength: data.length,
            ChecksumAlgorithm: "CRC32C",
          }),
        );
        ok(put.ChecksumCRC32C);
        const got = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: "streamed", ChecksumMode: "ENABLED" }),
        );
        equal(got.ChecksumCRC32C, put.ChecksumCRC32C);
        deepEqual(await bodyBytes(got.Body), data);
      });

      await t.step(
        "rejects a wrong checksum header with BadDigest and stores nothing",
        async () => {
          const wrong = "AAAAAA==";
          equal(
            await errorCode(
              s3.send(
                new PutObjectCommand({
                  Bucket: bucket,
                  Key: "bad-crc",
                  Body: "data",
                  ChecksumCRC32: wrong,
                }),
              ),
            ),
            "BadDigest",
          );
          equal(
            await errorCode(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "bad-crc" }))),
            "NotFound",
          );
        },
      );

      await t.step(
        "lists with prefix, delimiter, pages, start-after and url encoding",
        async () => {
          const b = "sdk-listing";
          await s3.send(new CreateBucketCommand({ Bucket: b }));
          const keys = ["a/1", "a/2", "a/b/3", "b", "c d", "c+e", "é/x", "z"];
          for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
          const all = await s3.send(new ListObjectsV2Command({ Bucket: b }));
          deepEqual(all.Contents?.map((c) => c.Key), [...keys].sort());
          equal(all.KeyCount, keys.length);
          const delim = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: "/" }));
          deepEqual(delim.CommonPrefixes?.map((p) => p.Prefix), ["a/", "é/"]);
          deepEqual(delim.Contents?.map((c) => c.Key), ["b", "c d", "c+e", "z"]);
          const nested = await s3.send(
            new ListObjectsV2Command({ Bucket: b, Prefix: "a/", Delimiter: "/" }),
          );
          deepEqual(nested.Contents?.map((c) => c.Key), ["a/1", "a/2"]);
          deepEqual(nested.CommonPrefixes?.map((p) => p.Prefix), ["a/b/"]);
          const seen: string[] = [];
          let token: string | undefined;
          let pages = 0;
          do {
            const page = await s3.send(
              new ListObjectsV2Command({ Bucket: b, MaxKeys: 3, ContinuationToken: token }),
            );
            seen.push(...(page.Contents ?? []).map((c) => c.Key!));
            token = page.NextContinuationToken;
            pages++;
            equal(page.IsTruncated, token !== undefined);
          } while (token !== undefined);
          deepEqual(seen, [...keys].sort());
          equal(pages, 3);
          const after = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: "c d" }));
          deepEqual(after.Contents?.map((c) => c.Key), ["c+e", "z", "é/x"].sort());
          const encoded = await s3.send(
            new ListObjectsV2Command({ Bucket: b, EncodingType: "url" }),
          );
          // The SDK leaves url-encoded keys as sent: decode them as AWS's encoding defines.
          equal(encoded.EncodingType, "url");
          deepEqual(
            encoded.Contents?.map((c) => decodeURIComponent(c.Key!)),
            [...keys].sort(),
          );
          ok(encoded.Contents?.some((c) => c.Key === "c%20d"));
          const v1 = await s3.send(
            new ListObjectsCommand({ Bucket: b, MaxKeys: 2, Delimiter: "/" }),
          );
          equal(v1.IsTruncated, true);
          equal(v1.NextMarker, "b");
          const v1b = await s3.send(new ListObjectsCommand({ Bucket: b, Marker: v1.NextMarker }));
          deepEqual(v1b.Contents?.map((c) => c.Key), ["c d", "c+e", "z", "é/x"]);
          const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
          deepEqual(
            versions.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]),
            [...keys].sort().map((k) => [k, "null", true]),
          );
          const zero = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 0 }));
          equal(zero.KeyCount, 0);
          equal(zero.IsTruncated, false);
        },
      );

      await t.step("deletes one key, many keys (quiet and verbose) and empty buckets", async () => {
        const b = "sdk-delete";
        await s3.send(new CreateBucketCommand({ Bucket: b }));
        for (let i = 0; i < 30; i++) {
          await s3.send(new PutObjectCommand({ Bucket: b, Key: `k${i}`, Body: "x" }));
        }
        equal(await errorCode(s3.send(new DeleteBucketCommand({ Bucket: b }))), "BucketNotEmpty");
        await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "k0" }));
        await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "never-existed" }));
        const verbose = await s3.send(
          new DeleteObjectsCommand({
            Bucket: b,
            Delete: { Objects: Array.from({ length: 10 }, (_, i) => ({ Key: `k${i + 1}` })) },
          }),
        );
        equal(verbose.Deleted?.length, 10);
        const quiet = await s3.send(
          new DeleteObjectsCommand({
            Bucket: b,
            Delete: {
              Quiet: true,
              Objects: Array.from({ length: 19 }, (_, i) => ({ Key: `k${i + 11}` })),
            },
          }),
        );
        equal(quiet.Deleted, undefined);
        equal(quiet.Errors, undefined);
        const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
        equal(left.KeyCount, 0);
        await s3.send(new DeleteBucketCommand({ Bucket: b }));
        equal(await errorCode(s3.send(new HeadBucketCommand({ Bucket: b }))), "NotFound");
      });
    } finally {
      s3.destroy();
      equal(await server.stop(), 0);
    }
  },
});
