/**
 * Browser form uploads (PostObject) against the real server: a POST policy signed as a browser
 * app's backend would sign it, sent as multipart/form-data with fetch.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { createHmac } from "node:crypto";
import { signingKeyForTest } from "../src/auth/testing.ts";
import { startServer, type TestServer } from "./_server.ts";
import { bytesOf } from "./_s3.ts";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { bodyBytes, clientFor, errorCode } from "./_s3.ts";

function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

interface FormOptions {
  key: string;
  conditions?: unknown[];
  expiration?: Date;
  fields?: Record<string, string>;
  file: Uint8Array<ArrayBuffer>;
  filename?: string;
  secretKey?: string;
}

/** A form as a browser would post it, with a policy signed by the server's root key. */
function postForm(s: TestServer, bucket: string, opts: FormOptions): Promise<Response> {
  const now = new Date();
  const date = amzDate(now);
  const credential = `${s.accessKey}/${date.slice(0, 8)}/${s.region}/s3/aws4_request`;
  const fields: Record<string, string> = {
    key: opts.key,
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": credential,
    "x-amz-date": date,
    ...opts.fields,
  };
  const policy = {
    expiration: (opts.expiration ?? new Date(now.getTime() + 600_000)).toISOString(),
    conditions: opts.conditions ?? [
      { bucket },
      ["starts-with", "$key", "uploads/"],
      { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
      { "x-amz-credential": credential },
      { "x-amz-date": date },
      ["starts-with", "$Content-Type", ""],
      ["starts-with", "$success_action_status", ""],
      ["starts-with", "$success_action_redirect", ""],
      ["starts-with", "$x-amz-meta-origin", ""],
      ["content-length-range", 1, 1024 * 1024],
    ],
  };
  const base64 = btoa(JSON.stringify(policy));
  const key = signingKeyForTest(opts.secretKey ?? s.secretKey, now, s.region);
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("policy", base64);
  form.append("x-amz-signature", createHmac("sha256", key).update(base64).digest("hex"));
  form.append("file", new Blob([opts.file]), opts.filename ?? "upload.bin");
  return fetch(`${s.endpoint}/${bucket}`, { method: "POST", body: form, redirect: "manual" });
}

async function codeOf(r: Response): Promise<[number, string]> {
  const text = await r.text();
  return [r.status, /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? ""];
}

Deno.test({
  name: "browser form uploads follow their POST policy",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const s = await startServer({ drives: 4 });
    const s3 = clientFor(s);
    const bucket = "forms";
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));

      await t.step("stores the file with its metadata and answers 204", async () => {
        const file = bytesOf(300_000, 2);
        const r = await postForm(s, bucket, {
          key: "uploads/${filename}",
          filename: "photo.jpg",
          fields: { "Content-Type": "image/jpeg", "x-amz-meta-origin": "browser" },
          file,
        });
        equal(r.status, 204, await r.text());
        match(r.headers.get("location") ?? "", /\/forms\/uploads\/photo\.jpg$/);
        const got = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: "uploads/photo.jpg" }),
        );
        equal(got.ContentType, "image/jpeg");
        deepEqual(got.Metadata, { origin: "browser" });
        deepEqual(await bodyBytes(got.Body), file);
      });

      await t.step("answers 201 with XML, or 303 to the redirect", async () => {
        const created = await postForm(s, bucket, {
          key: "uploads/201",
          fields: { success_action_status: "201" },
          file: bytesOf(10, 1),
        });
        equal(created.status, 201);
        match(await created.text(), /<PostResponse><Location>.*<Key>uploads\/201<\/Key><ETag>/);
        const redirected = await postForm(s, bucket, {
          key: "uploads/303",
          fields: { success_action_redirect: "https://app.example.com/done" },
          file: bytesOf(10, 1),
        });
        equal(redirected.status, 303);
        await redirected.body?.cancel();
        const location = new URL(redirected.headers.get("location")!);
        equal(location.origin + location.pathname, "https://app.example.com/done");
        equal(location.searchParams.get("key"), "uploads/303");
        equal(location.searchParams.get("bucket"), bucket);
      });

      await t.step("refuses a key outside the policy and stores nothing", async () => {
        const r = await postForm(s, bucket, { key: "elsewhere/x", file: bytesOf(10, 1) });
        deepEqual(await codeOf(r), [403, "AccessDenied"]);
        equal(
          await errorCode(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "elsewhere/x" }))),
          "NotFound",
        );
      });

      await t.step("refuses a file over content-length-range with EntityTooLarge", async () => {
        const r = await postForm(s, bucket, {
          key: "uploads/big",
          file: bytesOf(1024 * 1024 + 1, 1),
        });
        deepEqual(await codeOf(r), [400, "EntityTooLarge"]);
        equal(
          await errorCode(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "uploads/big" }))),
          "NotFound",
        );
      });

      await t.step("refuses an expired policy, a wrong signature and extra fields", async () => {
        const expired = await postForm(s, bucket, {
          key: "uploads/late",
          expiration: new Date(Date.now() - 1000),
          file: bytesOf(10, 1),
        });
        deepEqual(await codeOf(expired), [403, "AccessDenied"]);
        const forged = await postForm(s, bucket, {
          key: "uploads/forged",
          secretKey: "not-the-secret",
          file: bytesOf(10, 1),
        });
        deepEqual(await codeOf(forged), [403, "SignatureDoesNotMatch"]);
        const extra = await postForm(s, bucket, {
          key: "uploads/extra",
          fields: { "x-amz-meta-unsigned": "sneaky" },
          file: bytesOf(10, 1),
        });
        deepEqual(await codeOf(extra), [403, "AccessDenied"]);
      });

      await t.step("refuses a POST that is not multipart/form-data", async () => {
        const r = await fetch(`${s.endpoint}/${bucket}`, { method: "POST", body: "key=x" });
        deepEqual(await codeOf(r), [412, "PreconditionFailed"]);
      });
    } finally {
      s3.destroy();
      equal(await s.stop(), 0);
    }
  },
});
