/**
 * The aws CLI (Debian's /usr/bin/aws, v2) against the real server: `aws s3 mb/cp/ls/sync/rm/rb`
 * on a tree of awkward names, every size class, a 100 MiB multipart upload with the CLI's default
 * 8 MiB parts (and its server-side copy), `aws s3 presign`, and `aws s3api` head-object,
 * list-objects-v2, copy-object and object tagging.
 * A temp HOME and config files keep the user's own AWS configuration out. One server.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "./_server.ts";
import {
  awkwardTree,
  bytesOf,
  md5Hex,
  MiB,
  preferBinary,
  readTree,
  run,
  runOk,
  SIZES,
  treeDiff,
  writeTree,
} from "./clients/_run.ts";

// A pyenv shim may shadow `aws` on PATH; Debian's CLI is the one under test.
const AWS = preferBinary(["/usr/bin/aws"], "aws");
const BIG_BYTES = 100 * MiB;
/** The CLI's default multipart_threshold and multipart_chunksize (aws s3 docs: 8 MB). */
const CLI_PART_BYTES = 8 * MiB;

/** Writes `size` deterministic bytes in 1 MiB slices and returns the multipart ETag they make. */
async function writeBigFile(path: string, size: number, partBytes: number): Promise<string> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const partDigests: Uint8Array[] = [];
  let part = createHash("md5");
  try {
    for (let off = 0; off < size; off += MiB) {
      const slice = bytesOf(Math.min(MiB, size - off), off / MiB + 1000);
      await file.write(slice);
      part.update(slice);
      if ((off + slice.length) % partBytes === 0 || off + slice.length === size) {
        partDigests.push(part.digest());
        part = createHash("md5");
      }
    }
  } finally {
    file.close();
  }
  const all = createHash("md5");
  for (const d of partDigests) all.update(d);
  return `"${all.digest("hex")}-${partDigests.length}"`;
}

async function fileMd5(path: string): Promise<string> {
  const hash = createHash("md5");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

Deno.test({
  name: "the aws CLI copies, syncs, lists and removes trees and objects byte-exact",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({ drives: 4 });
    const home = await Deno.makeTempDir({ prefix: "shale-awscli-" });
    const env = {
      HOME: home,
      AWS_CONFIG_FILE: `${home}/config`,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/credentials`,
      AWS_PAGER: "",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CLI_AUTO_PROMPT: "off",
    };
    await Deno.writeTextFile(env.AWS_CONFIG_FILE, `[default]\nregion = ${server.region}\n`);
    await Deno.writeTextFile(
      env.AWS_SHARED_CREDENTIALS_FILE,
      `[default]\naws_access_key_id = ${server.accessKey}\n` +
        `aws_secret_access_key = ${server.secretKey}\n`,
    );
    const base = ["--endpoint-url", server.endpoint, "--output", "json"];
    const aws = async (...args: string[]) =>
      (await runOk(AWS, [...base, ...args], { env, cwd: home })).stdout;
    const awsJson = async (...args: string[]) => JSON.parse(await aws(...args));
    const bucket = "aws-cli";
    const tree = awkwardTree();
    const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    try {
      // Each CLI start costs seconds on a loaded machine, so the steps run the calls that do not
      // depend on each other at the same time, and batch files into recursive copies.
      await t.step("s3 mb makes a bucket", async () => {
        match(await aws("s3", "mb", `s3://${bucket}`), /make_bucket: aws-cli/);
      });

      await t.step("s3 cp --recursive and s3 ls handle a tree with awkward names", async () => {
        await writeTree(`${home}/tree`, tree);
        await aws("s3", "cp", "--recursive", "--no-progress", `${home}/tree`, `s3://${bucket}/cp`);
        const [listed] = await Promise.all([
          aws("s3", "ls", "--recursive", `s3://${bucket}/cp/`),
          aws("s3", "cp", "--recursive", "--no-progress", `s3://${bucket}/cp`, `${home}/cp`),
        ]);
        const got = listed.trim().split("\n").map((line) => {
          const m = /^\S+ \S+ +(\d+) (.*)$/.exec(line);
          ok(m, line);
          return [m[2], Number(m[1])];
        });
        deepEqual(got.sort(), [...tree].map(([name, data]) => [`cp/${name}`, data.length]).sort());
        equal(treeDiff(tree, await readTree(`${home}/cp`)), undefined);
      });

      await t.step("s3 sync uploads, downloads, then finds nothing to do", async () => {
        await aws("s3", "sync", "--no-progress", `${home}/tree`, `s3://${bucket}/sync`);
        const [, again] = await Promise.all([
          aws("s3", "sync", "--no-progress", `s3://${bucket}/sync`, `${home}/synced`),
          // Sizes and times now match, so a second sync transfers nothing.
          aws("s3", "sync", "--no-progress", `${home}/tree`, `s3://${bucket}/sync`),
        ]);
        equal(again, "");
        equal(treeDiff(tree, await readTree(`${home}/synced`)), undefined);
      });

      await t.step("s3 sync --delete removes what the source no longer has", async () => {
        await Deno.remove(`${home}/tree/with space/file name.txt`);
        await Deno.writeFile(`${home}/tree/top.txt`, bytesOf(777, 9));
        const sync = ["s3", "sync", "--no-progress", "--delete"];
        const out = await aws(...sync, `${home}/tree`, `s3://${bucket}/sync`);
        match(out, /delete: s3:\/\/aws-cli\/sync\/with space\/file name\.txt/);
        match(out, /upload: .*top\.txt/);
        await aws(...sync, `s3://${bucket}/sync`, `${home}/synced`);
        const local = await readTree(`${home}/tree`);
        equal(treeDiff(local, await readTree(`${home}/synced`)), undefined);
      });

      await t.step("s3 cp round-trips every size byte-exact with the MD5 ETag", async () => {
        const sizes = new Map(SIZES.map((size) => [`size-${size}`, bytesOf(size, size + 5)]));
        await writeTree(`${home}/sizes`, sizes);
        const cp = ["s3", "cp", "--recursive", "--no-progress"];
        await aws(...cp, `${home}/sizes`, `s3://${bucket}/sizes`);
        const [listed] = await Promise.all([
          awsJson("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "sizes/"),
          aws(...cp, `s3://${bucket}/sizes`, `${home}/got`),
        ]);
        equal(treeDiff(sizes, await readTree(`${home}/got`)), undefined);
        const contents = listed.Contents as { Key: string; Size: number; ETag: string }[];
        deepEqual(
          contents.map((c) => [c.Key, c.Size, c.ETag]),
          [...sizes].map(([name, data]) => [`sizes/${name}`, data.length, `"${md5Hex(data)}"`])
            .sort(),
        );
      });

      await t.step(
        "s3 cp moves 100 MiB as a multipart upload with the CLI's defaults and copies it server-side",
        async () => {
          const src = `${home}/big`;
          const etag = await writeBigFile(src, BIG_BYTES, CLI_PART_BYTES);
          const object = `s3://${bucket}/big/object.bin`;
          await aws("s3", "cp", "--no-progress", src, object);
          const [head] = await Promise.all([
            awsJson("s3api", "head-object", "--bucket", bucket, "--key", "big/object.bin"),
            // Downloads above 8 MiB are parallel ranged GETs.
            aws("s3", "cp", "--no-progress", object, `${home}/big-down`),
            // Bucket to bucket the CLI copies server-side in 8 MiB UploadPartCopy ranges, so the
            // copy has the same parts and so the same ETag.
            aws("s3", "cp", "--no-progress", object, `s3://${bucket}/big/copy.bin`),
          ]);
          equal(head.ContentLength, BIG_BYTES);
          equal(head.ETag, etag); // 13 parts of 8 MiB (the last 4 MiB)
          equal((await Deno.stat(`${home}/big-down`)).size, BIG_BYTES);
          equal(await fileMd5(`${home}/big-down`), await fileMd5(src));
          await Deno.remove(src);
          await Deno.remove(`${home}/big-down`);
          const copy = await awsJson(
            "s3api",
            "head-object",
            "--bucket",
            bucket,
            "--key",
            "big/copy.bin",
          );
          equal(copy.ContentLength, BIG_BYTES);
          equal(copy.ETag, etag);
        },
      );

      await t.step("s3api list-objects-v2 answers prefixes, delimiters and pages", async () => {
        const list = ["s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "cp/"];
        const [top, paged] = await Promise.all([
          awsJson(...list, "--delimiter", "/"),
          // The CLI pages with continuation tokens under --page-size and joins the pages.
          awsJson(...list, "--page-size", "2"),
        ]);
        deepEqual(
          (top.CommonPrefixes as { Prefix: string }[]).map((p) => p.Prefix),
          ["cp/a/", "cp/amp&semi;/", "cp/plus+equals=/", "cp/unicode/", "cp/with space/"],
        );
        deepEqual((top.Contents as { Key: string }[]).map((c) => c.Key), [
          "cp/empty",
          "cp/top.txt",
        ]);
        deepEqual(
          (paged.Contents as { Key: string }[]).map((c) => c.Key),
          [...tree.keys()].map((k) => `cp/${k}`).sort(byteOrder),
        );
      });

      await t.step("s3api copy-object copies bytes and replaces metadata", async () => {
        const data = tree.get("plus+equals=/a+b=c.txt")!;
        const key = "copies/ü copy+1.txt";
        const copied = await awsJson(
          "s3api",
          "copy-object",
          "--bucket",
          bucket,
          "--key",
          key,
          "--copy-source",
          `${bucket}/cp/plus+equals=/a+b=c.txt`,
          "--metadata-directive",
          "REPLACE",
          "--metadata",
          "origin=aws-cli",
          "--content-type",
          "text/x-copied",
        );
        equal(copied.CopyObjectResult.ETag, `"${md5Hex(data)}"`);
        const [head] = await Promise.all([
          awsJson("s3api", "head-object", "--bucket", bucket, "--key", key),
          aws("s3", "cp", "--no-progress", `s3://${bucket}/${key}`, `${home}/copy`),
        ]);
        deepEqual(head.Metadata, { origin: "aws-cli" });
        equal(head.ContentType, "text/x-copied");
        equal(head.ContentLength, data.length);
        deepEqual(await Deno.readFile(`${home}/copy`), data);
      });

      await t.step("s3 presign makes a URL that plain fetch can read", async () => {
        const object = `s3://${bucket}/cp/top.txt`;
        const url = (await aws("s3", "presign", "--expires-in", "300", object)).trim();
        const res = await fetch(url);
        equal(res.status, 200);
        deepEqual(new Uint8Array(await res.arrayBuffer()), tree.get("top.txt"));
      });

      await t.step("s3api put-object-tagging and get-object-tagging keep the tag set", async () => {
        const tagSet = [{ Key: "note", Value: "a b+c=d" }, { Key: "project", Value: "shale" }];
        const where = ["--bucket", bucket, "--key", "copies/ü copy+1.txt"];
        const tagging = JSON.stringify({ TagSet: tagSet });
        await aws("s3api", "put-object-tagging", ...where, "--tagging", tagging);
        const got = await awsJson("s3api", "get-object-tagging", ...where);
        deepEqual(
          (got.TagSet as { Key: string }[]).sort((a, b) => byteOrder(a.Key, b.Key)),
          tagSet,
        );
      });

      await t.step(
        "s3 rb refuses a non-empty bucket; s3 rm --recursive then rb empty it",
        async () => {
          const refused = await run(AWS, [...base, "s3", "rb", `s3://${bucket}`], {
            env,
            cwd: home,
          });
          ok(refused.code !== 0);
          match(refused.stderr, /BucketNotEmpty/);
          await aws("s3", "rm", "--recursive", "--only-show-errors", `s3://${bucket}`);
          await aws("s3", "rb", `s3://${bucket}`);
          equal(await aws("s3", "ls"), "");
        },
      );
    } finally {
      await Deno.remove(home, { recursive: true });
      equal(await server.stop(), 0);
    }
  },
});
