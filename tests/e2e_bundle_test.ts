/**
 * End to end: what compile.sh compiles. `deno compile` needs denort, which cannot be downloaded
 * here, so this builds the same bundle folder (scripts/bundle.sh) and runs its main.js with
 * `deno run` and compile.sh's permission flags (tests/systemd_test.ts holds them equal to
 * `deno task shale`'s, which startServer uses), then drives it with the AWS SDK through the paths
 * that need a file of the folder or a permission: the WebAssembly core (every erasure-coded PUT
 * and GET), the MD5 worker (bodies of MD5_OFFLOAD_MIN_BYTES and more), the lazily loaded chunks
 * (each S3 operation, the XML parser, hash-wasm's CRC32C, STS), SSE-S3, the drives' free space in
 * the metrics (node:fs statfs, which needs --allow-sys) and a clean shutdown.
 * Take a file out of the folder, or a flag out of deno.json's `shale` task, and this fails.
 */
import { equal, match, ok } from "node:assert/strict";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { MD5_OFFLOAD_MIN_BYTES } from "../src/config/limits.ts";
import { startServer } from "./_server.ts";
import { signedFetch } from "./_ops.ts";
import { bodyBytes, bytesOf, clientFor, md5Hex } from "./_s3.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MiB = 1024 * 1024;

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  equal(out.code, 0, text);
  return text;
}

Deno.test("the bundle compile.sh compiles starts with compile.sh's flags and serves S3", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "shale-bundle-" });
  try {
    await run("sh", ["scripts/bundle.sh", dir], {
      DENO: Deno.execPath(),
      SHALE_VERSION: "v9.8.7-test",
    });
    const main = `${dir}/main.js`;
    const script = await Deno.readTextFile(`${ROOT}compile.sh`);
    const permissions = script.match(/^PERMISSIONS="([^"]*)"/m)?.[1]?.split(" ") ?? [];
    const unstable = script.match(/^UNSTABLE="([^"]*)"/m)?.[1]?.split(" ") ?? [];
    ok(permissions.length > 0 && unstable.length > 0);

    await t.step("--version shows the stamped version", async () => {
      const text = await run(Deno.execPath(), [
        "run",
        ...permissions,
        ...unstable,
        main,
        "--version",
      ]);
      equal(text.trim(), "shale version v9.8.7-test");
    });

    const server = await startServer({
      main,
      drives: 4,
      env: {
        SHALE_KMS_SECRET_KEY: `bundle-key:${btoa(String.fromCharCode(...bytesOf(32)))}`,
        SHALE_PROMETHEUS_AUTH_TYPE: "public",
      },
    });
    const s3 = clientFor(server);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "bundle" }));

      await t.step("a PUT large enough for the MD5 worker, with CRC32C, reads back", async () => {
        const data = bytesOf(MD5_OFFLOAD_MIN_BYTES + MiB, 7);
        const put = await s3.send(
          new PutObjectCommand({
            Bucket: "bundle",
            Key: "big",
            Body: data,
            ChecksumAlgorithm: "CRC32C",
          }),
        );
        equal(put.ETag, `"${await md5Hex(data)}"`);
        const got = await s3.send(new GetObjectCommand({ Bucket: "bundle", Key: "big" }));
        equal(await md5Hex(await bodyBytes(got.Body)), await md5Hex(data));
      });

      await t.step("SSE-S3 through the built-in KMS", async () => {
        const data = bytesOf(300_000, 9);
        await s3.send(
          new PutObjectCommand({
            Bucket: "bundle",
            Key: "sse",
            Body: data,
            ServerSideEncryption: "AES256",
          }),
        );
        const got = await s3.send(new GetObjectCommand({ Bucket: "bundle", Key: "sse" }));
        equal(got.ServerSideEncryption, "AES256");
        equal(await md5Hex(await bodyBytes(got.Body)), await md5Hex(data));
      });

      await t.step("multipart completion, listing and a multi-delete (XML bodies)", async () => {
        const { UploadId } = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: "bundle", Key: "mp" }),
        );
        const parts = [];
        for (const n of [1, 2]) {
          const r = await s3.send(
            new UploadPartCommand({
              Bucket: "bundle",
              Key: "mp",
              UploadId,
              PartNumber: n,
              Body: bytesOf(n === 1 ? 5 * MiB : 1000, n),
            }),
          );
          parts.push({ PartNumber: n, ETag: r.ETag! });
        }
        const done = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: "bundle",
            Key: "mp",
            UploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
        match(done.ETag ?? "", /-2"$/);
        const list = await s3.send(new ListObjectsV2Command({ Bucket: "bundle" }));
        equal(list.Contents?.map((o) => o.Key).join(","), "big,mp,sse");
        const del = await s3.send(
          new DeleteObjectsCommand({
            Bucket: "bundle",
            Delete: { Objects: [{ Key: "big" }, { Key: "mp" }] },
          }),
        );
        equal(del.Deleted?.length, 2);
      });

      await t.step("an IAM user through the admin API, its STS session reads", async () => {
        const admin = async (method: string, target: string, query: string, body: unknown) => {
          const r = await signedFetch(server, method, `/minio/admin/v3/${target}`, {
            query,
            body: new TextEncoder().encode(JSON.stringify(body)),
          });
          equal(r.status, 200, await r.text());
        };
        const user = { accessKey: "bundleuser", secretKey: "bundleuser-secret" };
        await admin("PUT", "add-user", `accessKey=${user.accessKey}`, {
          secretKey: user.secretKey,
        });
        await admin("POST", "idp/builtin/policy/attach", "", {
          policies: ["readwrite"],
          user: user.accessKey,
        });
        const sts = new STSClient({
          endpoint: server.endpoint,
          region: server.region,
          credentials: { accessKeyId: user.accessKey, secretAccessKey: user.secretKey },
          maxAttempts: 1,
        });
        const out = await sts.send(
          new AssumeRoleCommand({ RoleArn: "arn:minio:iam:::role/any", RoleSessionName: "b" }),
        );
        sts.destroy();
        const c = out.Credentials!;
        const session = clientFor(server, {
          credentials: {
            accessKeyId: c.AccessKeyId!,
            secretAccessKey: c.SecretAccessKey!,
            sessionToken: c.SessionToken!,
          },
        });
        const got = await session.send(new GetObjectCommand({ Bucket: "bundle", Key: "sse" }));
        equal((await bodyBytes(got.Body)).length, 300_000);
        session.destroy();
      });

      await t.step("metrics report the drives' free space (statfs: --allow-sys)", async () => {
        const r = await fetch(`${server.endpoint}/minio/v2/metrics/node`);
        const text = await r.text();
        equal(r.status, 200, text);
        const free = text.split("\n").filter((l) => l.startsWith("minio_node_drive_free_bytes{"));
        equal(free.length, 4, text);
        for (const line of free) ok(Number(line.split(" ").pop()) > 0, line);
      });
    } finally {
      s3.destroy();
      equal(await server.stop(), 0, server.output());
    }
    // journald gets the banner, then JSON lines only: no runtime warning on stderr (reading
    // request.signal once made Deno print one on the first DeleteObjects).
    const afterBanner = server.output().split("\n\n").slice(1).join("\n").split("\n");
    for (const line of afterBanner.filter((l) => l !== "")) {
      ok(line.startsWith("{") && JSON.parse(line), `not a JSON line: ${line}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
