/**
 * Presigned URLs and POST policies made by real clients (minio-js, boto3) verify here, and stop
 * verifying once changed or expired.
 */
import assert from "node:assert/strict";
import * as Minio from "minio";
import { authenticateRequest } from "./sigv4.ts";
import { verifyPostPolicy } from "./post_policy.ts";
import type { AuthOptions } from "./types.ts";

const AK = "SHALEPRESIGNKEY";
const SK = "shale-presign-secret-0123456789";
const lookup: AuthOptions["lookup"] = (k) =>
  k === AK ? { accessKey: AK, secretKey: SK } : undefined;

function minio(): Minio.Client {
  return new Minio.Client({
    endPoint: "127.0.0.1",
    port: 9000,
    useSSL: false,
    accessKey: AK,
    secretKey: SK,
    region: "us-east-1",
    pathStyle: true,
  });
}

Deno.test("minio-js presigned GET and PUT URLs verify until they expire", async () => {
  const now = new Date();
  for (const key of ["plain.txt", "dir/a b+c!'()*.bin", "\u00e9\u20ac/\u{1f600}"]) {
    for (const method of ["GET", "PUT"] as const) {
      const url = new URL(
        method === "GET"
          ? await minio().presignedGetObject("bucket", key, 600, {}, now)
          : await minio().presignedPutObject("bucket", key, 600),
      );
      const req = {
        method,
        rawPath: url.pathname,
        rawQuery: url.search.slice(1),
        headers: new Headers({ host: url.host }),
      };
      const result = await authenticateRequest(req, { region: "us-east-1", now, lookup });
      assert.equal(result.kind, "signed", `${method} ${key}`);
      const later = new Date(now.getTime() + 700_000);
      await assert.rejects(authenticateRequest(req, { region: "us-east-1", now: later, lookup }), {
        code: "AccessDenied",
      });
    }
  }
});

Deno.test("minio-js POST policies verify, and their conditions hold", async () => {
  const client = minio();
  const policy = client.newPostPolicy();
  policy.setBucket("bucket");
  policy.setKeyStartsWith("uploads/");
  policy.setContentType("text/plain");
  policy.setContentLengthRange(1, 1024);
  policy.setExpires(new Date(Date.now() + 600_000));
  const { formData } = await client.presignedPostPolicy(policy);
  const fields = { ...formData, key: "uploads/a.txt" } as Record<string, string>;
  const now = new Date();
  const result = await verifyPostPolicy(fields, {
    region: "us-east-1",
    now,
    lookup,
    bucket: "bucket",
  });
  assert.equal(result.kind, "signed");
  if (result.kind === "signed") assert.deepEqual(result.contentLengthRange, { min: 1, max: 1024 });
  await assert.rejects(
    verifyPostPolicy({ ...fields, key: "elsewhere/a.txt" }, {
      region: "us-east-1",
      now,
      lookup,
      bucket: "bucket",
    }),
    { code: "AccessDenied" },
  );
});

async function python(script: string): Promise<unknown | undefined> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("python3", {
      args: ["-c", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    return undefined;
  }
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success && stderr.includes("No module named 'boto3'")) return undefined;
  assert.ok(out.success, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const hasBoto3 = await (async () => {
  try {
    return (await new Deno.Command("python3", { args: ["-c", "import boto3"], stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "boto3 presigned URLs and presigned POSTs verify",
  ignore: !hasBoto3,
  fn: async () => {
    const made = await python(`
import json, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:9000", region_name="us-east-1",
    aws_access_key_id="${AK}", aws_secret_access_key="${SK}",
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
get = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "a b/c+d.txt",
    "ResponseContentType": "text/plain"}, ExpiresIn=600)
put = s3.generate_presigned_url("put_object", Params={"Bucket": "bucket", "Key": "x!y"}, ExpiresIn=600)
post = s3.generate_presigned_post("bucket", "uploads/\${filename}",
    Fields={"acl": "private", "Content-Type": "image/png"},
    Conditions=[{"acl": "private"}, ["starts-with", "$Content-Type", "image/"],
                ["content-length-range", 10, 100]], ExpiresIn=600)
print(json.dumps({"get": get, "put": put, "post": post["fields"]}))
`) as { get: string; put: string; post: Record<string, string> };
    const now = new Date();
    for (const [method, raw] of [["GET", made.get], ["PUT", made.put]] as const) {
      const url = new URL(raw);
      const result = await authenticateRequest({
        method,
        rawPath: url.pathname,
        rawQuery: url.search.slice(1),
        headers: new Headers({ host: url.host }),
      }, { region: "us-east-1", now, lookup });
      assert.equal(result.kind, "signed", raw);
    }
    const opts = { region: "us-east-1", now, lookup, bucket: "bucket", filename: "p.png" };
    const post = await verifyPostPolicy(made.post, opts);
    assert.equal(post.kind, "signed");
    if (post.kind === "signed") {
      assert.equal(post.key, "uploads/p.png");
      assert.deepEqual(post.contentLengthRange, { min: 10, max: 100 });
    }
    await assert.rejects(verifyPostPolicy({ ...made.post, "Content-Type": "text/html" }, opts), {
      code: "AccessDenied",
    });
  },
});
