/**
 * minio-js (`npm:minio`) against the real server: fPutObject / fGetObject of every size class,
 * listObjectsV2 (recursive and by folder), presignedGetObject fetched with plain fetch,
 * statObject, removeObject; and the paths minio-js users lean on besides: getPartialObject,
 * copyObject, composeObject (UploadPartCopy), presignedPutObject and presignedPostPolicy
 * (PostObject) used with plain fetch, object and bucket tagging. One server for the whole file.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Client, CopyDestinationOptions, CopySourceOptions } from "minio";
import { startServer } from "./_server.ts";
import { awkwardTree, bytesOf, md5Hex, MiB, SIZES } from "./clients/_run.ts";

interface ListedItem {
  name?: string;
  prefix?: string;
  size?: number;
  etag?: string;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk as Uint8Array);
  return new Uint8Array(Buffer.concat(chunks));
}

async function listAll(
  client: Client,
  bucket: string,
  prefix: string,
  recursive: boolean,
): Promise<ListedItem[]> {
  const items: ListedItem[] = [];
  for await (const item of client.listObjectsV2(bucket, prefix, recursive)) {
    items.push(item as ListedItem);
  }
  return items;
}

Deno.test({
  name: "minio-js puts, gets, lists, presigns, stats and removes objects byte-exact",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({ drives: 4 });
    const url = new URL(server.endpoint);
    const client = new Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: server.accessKey,
      secretKey: server.secretKey,
      region: server.region,
      pathStyle: true,
    });
    const bucket = "minio-js";
    const dir = await Deno.makeTempDir({ prefix: "shale-minio-js-" });
    try {
      await t.step("makes a bucket and sees it exist", async () => {
        await client.makeBucket(bucket, server.region);
        ok(await client.bucketExists(bucket));
        equal(await client.bucketExists("no-such-bucket"), false);
      });

      for (const size of SIZES) {
        await t.step(`fPutObject and fGetObject round-trip ${size} bytes`, async () => {
          const data = bytesOf(size, size + 3);
          const src = `${dir}/up-${size}`;
          const dst = `${dir}/down-${size}`;
          await Deno.writeFile(src, data);
          const key = `sizes/${size}.bin`;
          const put = await client.fPutObject(bucket, key, src, {
            "Content-Type": "application/octet-stream",
            "X-Amz-Meta-Size": String(size),
          });
          equal(put.etag, md5Hex(data));
          await client.fGetObject(bucket, key, dst);
          deepEqual(await Deno.readFile(dst), data);
          const stat = await client.statObject(bucket, key);
          equal(stat.size, size);
          equal(stat.etag, md5Hex(data));
          equal(stat.metaData["size"], String(size));
          equal(stat.metaData["content-type"], "application/octet-stream");
        });
      }

      await t.step("fPutObject keeps awkward key names exact", async () => {
        for (const [name, data] of awkwardTree()) {
          const src = `${dir}/awkward`;
          await Deno.writeFile(src, data);
          await client.fPutObject(bucket, `tree/${name}`, src, {});
          const dst = `${dir}/awkward-down`;
          await client.fGetObject(bucket, `tree/${name}`, dst);
          deepEqual(await Deno.readFile(dst), data, name);
        }
      });

      await t.step("listObjectsV2 lists recursively in order and by folder", async () => {
        const tree = awkwardTree();
        const all = await listAll(client, bucket, "tree/", true);
        deepEqual(
          all.map((i) => i.name),
          [...tree.keys()].map((k) => `tree/${k}`).sort((a, b) =>
            Buffer.compare(Buffer.from(a), Buffer.from(b))
          ),
        );
        for (const item of all) {
          const data = tree.get(item.name!.slice("tree/".length))!;
          equal(item.size, data.length);
          equal(item.etag, md5Hex(data));
        }
        // minio-js yields a page's objects before its prefixes, so compare sorted.
        const top = await listAll(client, bucket, "tree/", false);
        deepEqual(
          top.map((i) => i.prefix ?? i.name).sort(),
          [
            "tree/a/",
            "tree/amp&semi;/",
            "tree/empty",
            "tree/plus+equals=/",
            "tree/top.txt",
            "tree/unicode/",
            "tree/with space/",
          ],
        );
        const sizes = await listAll(client, bucket, "sizes/", true);
        equal(sizes.length, SIZES.length);
      });

      await t.step("a presigned GET URL serves the object to plain fetch", async () => {
        const data = bytesOf(MiB + 1, 42);
        const key = "presigned/ü and space+plus.bin";
        await client.putObject(bucket, key, Buffer.from(data), data.length);
        const signed = await client.presignedGetObject(bucket, key, 600);
        const res = await fetch(signed);
        equal(res.status, 200);
        deepEqual(new Uint8Array(await res.arrayBuffer()), data);
        // The signature covers the key: the same query on another key is refused.
        const other = await fetch(signed.replace("presigned/", "presigned2/"));
        equal(other.status, 403);
        await other.body?.cancel();
        // An expired URL is refused too.
        const expired = await client.presignedGetObject(
          bucket,
          key,
          1,
          {},
          new Date(Date.now() - 60_000),
        );
        const late = await fetch(expired);
        equal(late.status, 403);
        await late.body?.cancel();
      });

      await t.step("getPartialObject reads a range across an erasure block edge", async () => {
        const data = bytesOf(MiB + 1, 42); // presigned/ü and space+plus.bin
        const part = await readAll(
          await client.getPartialObject(bucket, "presigned/ü and space+plus.bin", MiB - 10, 11),
        );
        deepEqual(part, data.slice(MiB - 10, MiB + 1));
      });

      await t.step("copyObject and composeObject copy bytes server-side", async () => {
        const data = bytesOf(MiB + 1, 42);
        await client.copyObject(
          new CopySourceOptions({ Bucket: bucket, Object: "presigned/ü and space+plus.bin" }),
          new CopyDestinationOptions({ Bucket: bucket, Object: "copied/one.bin" }),
        );
        // minio-js reads the copy's ETag from a response header AWS does not send, so stat it.
        equal((await client.statObject(bucket, "copied/one.bin")).etag, md5Hex(data));
        const big = bytesOf(5 * MiB, 5 * MiB + 3); // sizes/5242880.bin
        const composed = await client.composeObject(
          new CopyDestinationOptions({ Bucket: bucket, Object: "copied/composed.bin" }),
          [
            new CopySourceOptions({ Bucket: bucket, Object: `sizes/${5 * MiB}.bin` }),
            new CopySourceOptions({ Bucket: bucket, Object: "copied/one.bin" }),
          ],
        );
        match((composed as { etag: string }).etag, /^[0-9a-f]{32}-2$/);
        const got = await readAll(await client.getObject(bucket, "copied/composed.bin"));
        equal(got.length, big.length + data.length);
        deepEqual(got.slice(0, big.length), big);
        deepEqual(got.slice(big.length), data);
      });

      await t.step(
        "presignedPutObject and presignedPostPolicy upload with plain fetch",
        async () => {
          const data = bytesOf(70_000, 8);
          const putUrl = await client.presignedPutObject(bucket, "uploaded/put ü+.bin", 600);
          const put = await fetch(putUrl, { method: "PUT", body: data });
          equal(put.status, 200);
          equal(put.headers.get("etag"), `"${md5Hex(data)}"`);
          await put.body?.cancel();
          deepEqual(await readAll(await client.getObject(bucket, "uploaded/put ü+.bin")), data);

          const policy = client.newPostPolicy();
          policy.setBucket(bucket);
          policy.setKey("uploaded/posted.bin");
          policy.setExpires(new Date(Date.now() + 600_000));
          policy.setContentType("application/x-posted");
          policy.setContentLengthRange(1, 100_000);
          const { postURL, formData } = await client.presignedPostPolicy(policy);
          const form = new FormData();
          for (const [name, value] of Object.entries(formData)) form.append(name, String(value));
          form.append("file", new Blob([data]), "posted.bin");
          const post = await fetch(postURL, { method: "POST", body: form });
          equal(post.status, 204, await post.text());
          const stat = await client.statObject(bucket, "uploaded/posted.bin");
          equal(stat.etag, md5Hex(data));
          equal(stat.metaData["content-type"], "application/x-posted");
          // Over the policy's content-length-range: refused, and nothing is stored.
          const tooBig = new FormData();
          for (const [name, value] of Object.entries(formData)) tooBig.append(name, String(value));
          tooBig.append("file", new Blob([bytesOf(100_001, 9)]), "posted.bin");
          const refused = await fetch(postURL, { method: "POST", body: tooBig });
          equal(refused.status, 400);
          match(await refused.text(), /EntityTooLarge/);
          equal((await client.statObject(bucket, "uploaded/posted.bin")).etag, md5Hex(data));
        },
      );

      await t.step("sets, gets and removes object and bucket tags", async () => {
        const key = "copied/one.bin";
        await client.setObjectTagging(bucket, key, { project: "shale", "with space": "a b+c" });
        const sortByKey = (tags: unknown) =>
          (tags as { Key: string; Value: unknown }[])
            .map((t) => [t.Key, String(t.Value)])
            .sort();
        deepEqual(sortByKey(await client.getObjectTagging(bucket, key)), [
          ["project", "shale"],
          ["with space", "a b+c"],
        ]);
        // minio-js types make versionId required; at runtime it sends none when it is absent.
        await client.removeObjectTagging(bucket, key, {} as { versionId: string });
        deepEqual(await client.getObjectTagging(bucket, key), []);
        // minio-js accepts only 200 from PutBucketTagging, as MinIO answers.
        await client.setBucketTagging(bucket, { team: "storage" });
        deepEqual(sortByKey(await client.getBucketTagging(bucket)), [["team", "storage"]]);
        await client.removeBucketTagging(bucket);
      });

      await t.step("removeObject deletes, and statObject then says NotFound", async () => {
        const items = await listAll(client, bucket, "", true);
        for (const item of items) await client.removeObject(bucket, item.name!);
        deepEqual(await listAll(client, bucket, "", true), []);
        let code = "";
        try {
          await client.statObject(bucket, "sizes/0.bin");
        } catch (e) {
          code = (e as { code?: string }).code ?? String(e);
        }
        equal(code, "NotFound");
        await client.removeBucket(bucket);
        equal(await client.bucketExists(bucket), false);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
      equal(await server.stop(), 0);
    }
  },
});
