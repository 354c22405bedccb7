/**
 * minio-js (`npm:minio`) against the real server: fPutObject / fGetObject of every size class,
 * listObjectsV2 (recursive and by folder), presignedGetObject fetched with plain fetch,
 * statObject, removeObject. One server for the whole file.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { Client } from "minio";
import { startServer } from "./_server.ts";
import { awkwardTree, bytesOf, md5Hex, MiB, SIZES } from "./clients/_run.ts";

interface ListedItem {
  name?: string;
  prefix?: string;
  size?: number;
  etag?: string;
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
