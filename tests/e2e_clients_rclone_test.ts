/**
 * rclone (provider Minio, configured only by environment variables) against the real server:
 * copy, sync, check (0 differences, by hash and by downloading), lsf, on a tree of awkward names
 * and every size class, with a small upload cutoff so large files go multipart; server-side copy
 * and move, multi-thread downloads, presigned-request uploads. One server.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { startServer } from "./_server.ts";
import { clientFor } from "./_s3.ts";
import {
  awkwardTree,
  bytesOf,
  MiB,
  readTree,
  runOk,
  SIZES,
  treeDiff,
  writeTree,
} from "./clients/_run.ts";

/** rclone's multipart cutoff and part size here: S3's 5 MiB minimum, so 11 MiB is 3 parts. */
const PART_BYTES = 5 * MiB;

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

Deno.test({
  name: "rclone copies, syncs, checks and lists a tree with 0 differences",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({ drives: 4 });
    const home = await Deno.makeTempDir({ prefix: "shale-rclone-" });
    await Deno.writeTextFile(`${home}/rclone.conf`, "");
    const env = {
      HOME: home,
      RCLONE_CONFIG: `${home}/rclone.conf`,
      RCLONE_CONFIG_SHALE_TYPE: "s3",
      RCLONE_CONFIG_SHALE_PROVIDER: "Minio",
      RCLONE_CONFIG_SHALE_ENV_AUTH: "false",
      RCLONE_CONFIG_SHALE_ACCESS_KEY_ID: server.accessKey,
      RCLONE_CONFIG_SHALE_SECRET_ACCESS_KEY: server.secretKey,
      RCLONE_CONFIG_SHALE_ENDPOINT: server.endpoint,
      RCLONE_CONFIG_SHALE_REGION: server.region,
    };
    const flags = [
      // rclone reads a bare number as KiB, so say "M" (MiB).
      "--s3-upload-cutoff",
      `${PART_BYTES / MiB}M`,
      "--s3-chunk-size",
      `${PART_BYTES / MiB}M`,
      // Fail on the first error instead of hiding a server bug behind retries.
      "--retries",
      "1",
      "--low-level-retries",
      "2",
    ];
    const rclone = (...args: string[]) => runOk("rclone", [...flags, ...args], { env, cwd: home });
    const tree = awkwardTree();
    for (const size of SIZES) tree.set(`sizes/${size}.bin`, bytesOf(size, size + 17));
    tree.set("sizes/multipart.bin", bytesOf(2 * PART_BYTES + MiB + 1, 3));
    const local = `${home}/tree`;
    try {
      await t.step("copy uploads the tree and check finds 0 differences", async () => {
        await writeTree(local, tree);
        await rclone("mkdir", "shale:rclone-test");
        await rclone("copy", local, "shale:rclone-test/copy");
        const check = await rclone("check", local, "shale:rclone-test/copy");
        match(check.stderr, / 0 differences found/);
        match(check.stderr, new RegExp(` ${tree.size} matching files`));
        // rclone goes multipart at the cutoff: 11 MiB is 3 parts, 5 MiB one part, 1 MiB + 1 a PUT.
        const s3 = clientFor(server);
        const multi = await s3.send(
          new HeadObjectCommand({ Bucket: "rclone-test", Key: "copy/sizes/multipart.bin" }),
        );
        match(multi.ETag ?? "", /^"[0-9a-f]{32}-3"$/);
        const one = await s3.send(
          new HeadObjectCommand({ Bucket: "rclone-test", Key: `copy/sizes/${PART_BYTES}.bin` }),
        );
        match(one.ETag ?? "", /^"[0-9a-f]{32}-1"$/);
        const single = await s3.send(
          new HeadObjectCommand({ Bucket: "rclone-test", Key: `copy/sizes/${MiB + 1}.bin` }),
        );
        match(single.ETag ?? "", /^"[0-9a-f]{32}"$/);
        s3.destroy();
      });

      await t.step(
        "lsf lists every file with its size, in byte order, however it pages",
        async () => {
          const out = await rclone(
            "lsf",
            "-R",
            "--files-only",
            "--format",
            "ps",
            "--separator",
            "\t",
            "shale:rclone-test/copy",
          );
          const listed = out.stdout.trim().split("\n").map((line) => line.split("\t"));
          deepEqual(
            listed,
            [...tree.keys()].sort(byteOrder).map((name) => [name, String(tree.get(name)!.length)]),
          );
          // ListObjects v1 (markers) and v2 (tokens), with and without encoding-type=url, in pages
          // of 2: the same names in the same order.
          for (const version of ["1", "2"]) {
            for (const encode of ["true", "false"]) {
              const paged = await rclone(
                "lsf",
                "-R",
                "--files-only",
                "--s3-list-version",
                version,
                `--s3-list-url-encode=${encode}`,
                "--s3-list-chunk",
                "2",
                "shale:rclone-test/copy",
              );
              deepEqual(
                paged.stdout.trim().split("\n"),
                listed.map(([name]) => name),
                `list version ${version}, url-encode ${encode}`,
              );
            }
          }
          const dirs = await rclone("lsf", "--dirs-only", "shale:rclone-test/copy");
          deepEqual(
            dirs.stdout.trim().split("\n"),
            ["a/", "amp&semi;/", "plus+equals=/", "sizes/", "unicode/", "with space/"],
          );
        },
      );

      await t.step("sync mirrors changes and deletions, and check --download agrees", async () => {
        await rclone("sync", local, "shale:rclone-test/sync");
        await Deno.remove(`${local}/with space/file name.txt`);
        await Deno.writeFile(`${local}/top.txt`, bytesOf(4321, 8));
        await Deno.writeFile(`${local}/a/new file.txt`, bytesOf(99, 12));
        await rclone("sync", local, "shale:rclone-test/sync");
        const check = await rclone("check", local, "shale:rclone-test/sync");
        match(check.stderr, / 0 differences found/);
        // Compare the bytes themselves, not only the hashes the server reports.
        const download = await rclone("check", "--download", local, "shale:rclone-test/sync");
        match(download.stderr, / 0 differences found/);
        const names = await rclone("lsf", "-R", "--files-only", "shale:rclone-test/sync");
        equal(names.stdout.includes("file name.txt"), false);
        equal(names.stdout.includes("a/new file.txt\n"), true);
      });

      await t.step("copy downloads the tree back byte-exact", async () => {
        await rclone("copy", "shale:rclone-test/sync", `${home}/down`);
        equal(treeDiff(await readTree(local), await readTree(`${home}/down`)), undefined);
      });

      await t.step("copies and moves server-side, and downloads in ranged threads", async () => {
        // Above --s3-copy-cutoff rclone copies with UploadPartCopy: same parts, same ETag.
        await rclone(
          "copy",
          "--s3-copy-cutoff",
          "5M",
          "shale:rclone-test/copy/sizes",
          "shale:rclone-test/server-copy",
        );
        const s3 = clientFor(server);
        const etagOf = async (key: string) =>
          (await s3.send(new HeadObjectCommand({ Bucket: "rclone-test", Key: key }))).ETag;
        const copied = await etagOf("server-copy/multipart.bin");
        match(copied ?? "", /-3"$/);
        equal(copied, await etagOf("copy/sizes/multipart.bin"));
        s3.destroy();
        await rclone("move", "shale:rclone-test/server-copy", "shale:rclone-test/moved");
        const check = await rclone(
          "check",
          "shale:rclone-test/copy/sizes",
          "shale:rclone-test/moved",
        );
        match(check.stderr, / 0 differences found/);
        const left = await rclone("lsf", "shale:rclone-test/server-copy");
        equal(left.stdout, "");
        await rclone(
          "copy",
          "--multi-thread-cutoff",
          "1M",
          "--multi-thread-streams",
          "4",
          "shale:rclone-test/moved",
          `${home}/threaded`,
        );
        const sizes = new Map(
          [...tree].filter(([name]) => name.startsWith("sizes/")).map(([name, data]) => [
            name.slice("sizes/".length),
            data,
          ]),
        );
        equal(treeDiff(sizes, await readTree(`${home}/threaded`)), undefined);
      });

      await t.step("uploads with presigned PUTs (--s3-use-presigned-request)", async () => {
        // Go sends these PUTs with Content-Length twice; the signature covers the one value.
        await rclone("copy", "--s3-use-presigned-request", local, "shale:rclone-test/presigned");
        const check = await rclone("check", "--download", local, "shale:rclone-test/presigned");
        match(check.stderr, / 0 differences found/);
      });

      await t.step("purge removes every object and the bucket", async () => {
        await rclone("purge", "shale:rclone-test");
        const buckets = await rclone("lsf", "shale:");
        equal(buckets.stdout, "");
      });
    } finally {
      await Deno.remove(home, { recursive: true });
      equal(await server.stop(), 0);
    }
  },
});
