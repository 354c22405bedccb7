/**
 * s3cmd (SigV4, path-style over plain HTTP, from a temp config file) against the real server:
 * mb, put (single files, recursive trees, multipart), get, ls, del, rb, on awkward names and every
 * size class; sync both ways, and the server-side cp, mv and modify. One server.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { startServer } from "./_server.ts";
import { clientFor } from "./_s3.ts";
import {
  awkwardTree,
  bytesOf,
  md5Hex,
  MiB,
  readTree,
  run,
  runOk,
  SIZES,
  treeDiff,
  writeS3cmdConfig,
  writeTree,
} from "./clients/_run.ts";

/** s3cmd's --multipart-chunk-size-mb here: S3's 5 MiB minimum part. */
const CHUNK_MIB = 5;

Deno.test({
  name: "s3cmd puts, gets, lists and deletes objects byte-exact",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({ drives: 4 });
    const home = await Deno.makeTempDir({ prefix: "shale-s3cmd-" });
    const config = `${home}/s3cfg`;
    await writeS3cmdConfig(config, server, { signatureV2: false });
    const env = { HOME: home };
    const s3cmd = (...args: string[]) =>
      runOk("s3cmd", ["-c", config, ...args], { env, cwd: home });
    const bucket = "s3cmd-test";
    const tree = awkwardTree();
    try {
      await t.step("mb makes a bucket that ls lists", async () => {
        match((await s3cmd("mb", `s3://${bucket}`)).stdout, /Bucket 's3:\/\/s3cmd-test\/' created/);
        match((await s3cmd("ls")).stdout, / s3:\/\/s3cmd-test\n/);
      });

      await t.step("put and get round-trip every size byte-exact", async () => {
        const sizes = new Map(SIZES.map((size) => [`size-${size}`, bytesOf(size, size + 23)]));
        await writeTree(`${home}/sizes`, sizes);
        // One put of several files into a "folder", one recursive get back.
        await s3cmd(
          "put",
          ...[...sizes.keys()].map((n) => `${home}/sizes/${n}`),
          `s3://${bucket}/sizes/`,
        );
        await Deno.mkdir(`${home}/got`);
        await s3cmd("get", "--recursive", `s3://${bucket}/sizes/`, `${home}/got/`);
        equal(treeDiff(sizes, await readTree(`${home}/got`)), undefined);
        const listed = await s3cmd("ls", "--list-md5", `s3://${bucket}/sizes/`);
        for (const [name, data] of sizes) {
          match(
            listed.stdout,
            new RegExp(` ${data.length} +${md5Hex(data)} +s3://${bucket}/sizes/${name}\n`),
          );
        }
      });

      await t.step("put --recursive and get --recursive keep awkward names exact", async () => {
        await writeTree(`${home}/tree`, tree);
        await s3cmd("put", "--recursive", `${home}/tree/`, `s3://${bucket}/tree/`);
        await Deno.mkdir(`${home}/tree-down`);
        await s3cmd("get", "--recursive", `s3://${bucket}/tree/`, `${home}/tree-down/`);
        equal(treeDiff(tree, await readTree(`${home}/tree-down`)), undefined);
      });

      await t.step("ls shows folders as DIR and lists recursively", async () => {
        const top = (await s3cmd("ls", `s3://${bucket}/tree/`)).stdout.trimEnd().split("\n");
        const dirs = top.flatMap((l) => /^\s+DIR\s+(.*)$/.exec(l)?.[1] ?? []);
        deepEqual(
          dirs,
          ["a/", "amp&semi;/", "plus+equals=/", "unicode/", "with space/"].map((d) =>
            `s3://${bucket}/tree/${d}`
          ),
        );
        const all = (await s3cmd("ls", "--recursive", `s3://${bucket}/tree/`)).stdout;
        const listed = all.trimEnd().split("\n").map((line) => {
          const m = /^\S+ \S+ +(\d+) +s3:\/\/s3cmd-test\/tree\/(.*)$/.exec(line);
          ok(m, line);
          return [m[2], Number(m[1])];
        });
        deepEqual(
          listed.sort(),
          [...tree].map(([name, data]) => [name, data.length]).sort(),
        );
      });

      await t.step("put uploads a large file in 5 MiB parts and get verifies it", async () => {
        const data = bytesOf(2 * CHUNK_MIB * MiB + 7, 77);
        await Deno.writeFile(`${home}/large`, data);
        const put = await s3cmd(
          "put",
          `--multipart-chunk-size-mb=${CHUNK_MIB}`,
          `${home}/large`,
          `s3://${bucket}/large/file.bin`,
        );
        match(put.stdout, /upload: /);
        const s3 = clientFor(server);
        const head = await s3.send(
          new HeadObjectCommand({ Bucket: bucket, Key: "large/file.bin" }),
        );
        s3.destroy();
        match(head.ETag ?? "", /^"[0-9a-f]{32}-3"$/);
        equal(head.ContentLength, data.length);
        await s3cmd("get", `s3://${bucket}/large/file.bin`, `${home}/large-down`);
        deepEqual(await Deno.readFile(`${home}/large-down`), data);
      });

      await t.step(
        "sync mirrors a tree both ways; cp, mv and modify work server-side",
        async () => {
          await s3cmd("sync", `${home}/tree/`, `s3://${bucket}/sync/`);
          // Nothing changed, so a second sync uploads nothing.
          equal(
            (await s3cmd("sync", `${home}/tree/`, `s3://${bucket}/sync/`)).stdout.includes(
              "upload:",
            ),
            false,
          );
          await Deno.mkdir(`${home}/sync-down`);
          await s3cmd("sync", `s3://${bucket}/sync/`, `${home}/sync-down/`);
          equal(treeDiff(tree, await readTree(`${home}/sync-down`)), undefined);
          const src = `s3://${bucket}/sync/unicode/héllo-日本語-ü.txt`;
          await s3cmd("cp", src, `s3://${bucket}/moved/copy ü.txt`);
          await s3cmd("mv", `s3://${bucket}/moved/copy ü.txt`, `s3://${bucket}/moved/moved ü.txt`);
          await s3cmd(
            "modify",
            "--add-header=Cache-Control:max-age=5",
            `s3://${bucket}/moved/moved ü.txt`,
          );
          const s3 = clientFor(server);
          const head = await s3.send(
            new HeadObjectCommand({ Bucket: bucket, Key: "moved/moved ü.txt" }),
          );
          s3.destroy();
          equal(head.CacheControl, "max-age=5");
          equal(head.ETag, `"${md5Hex(tree.get("unicode/héllo-日本語-ü.txt")!)}"`);
          await s3cmd("get", `s3://${bucket}/moved/moved ü.txt`, `${home}/moved`);
          deepEqual(await Deno.readFile(`${home}/moved`), tree.get("unicode/héllo-日本語-ü.txt"));
          const moved = (await s3cmd("ls", `s3://${bucket}/moved/`)).stdout;
          equal(moved.includes("copy ü.txt"), false);
        },
      );

      await t.step("del removes one object, del --recursive the rest, rb the bucket", async () => {
        const key = `s3://${bucket}/tree/with space/file name.txt`;
        match((await s3cmd("del", key)).stdout, /delete: /);
        const listed = (await s3cmd("ls", "--recursive", `s3://${bucket}/tree/`)).stdout;
        equal(listed.includes("file name.txt"), false);
        equal(listed.includes("tree/top.txt"), true);
        const refused = await run("s3cmd", ["-c", config, "rb", `s3://${bucket}`], { env });
        ok(refused.code !== 0);
        match(refused.stderr, /BucketNotEmpty/);
        await s3cmd("del", "--recursive", "--force", `s3://${bucket}`);
        equal((await s3cmd("ls", "--recursive", `s3://${bucket}`)).stdout, "");
        await s3cmd("rb", `s3://${bucket}`);
        equal((await s3cmd("ls")).stdout, "");
      });
    } finally {
      await Deno.remove(home, { recursive: true });
      equal(await server.stop(), 0);
    }
  },
});
