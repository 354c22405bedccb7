/**
 * End to end: bucket policies through @aws-sdk/client-s3 (Put/Get/Delete/GetBucketPolicyStatus)
 * and what they grant to anonymous `fetch` requests. One server for the file.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { BUCKET_POLICY_BYTES_MAX } from "../src/config/limits.ts";
import { startServer } from "./_server.ts";
import { clientFor, errorCode } from "./_s3.ts";

const BUCKET = "policies";

const PUBLIC_READ_EXCEPT_SECRET = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "PublicRead",
      Effect: "Allow",
      Principal: "*",
      Action: ["s3:GetObject"],
      Resource: [`arn:aws:s3:::${BUCKET}/*`],
    },
    {
      Sid: "NotTheSecrets",
      Effect: "Deny",
      Principal: { AWS: ["*"] },
      Action: ["s3:GetObject"],
      Resource: [`arn:aws:s3:::${BUCKET}/secret/*`],
    },
  ],
};

async function codeOf(r: Response): Promise<string> {
  return /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1] ?? `HTTP ${r.status}`;
}

Deno.test("bucket policies: public read for anonymous fetch, never write, and Deny beats Allow", async (t) => {
  const server = await startServer({ drives: 4 });
  const s3 = clientFor(server);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const key of ["public/a.txt", "secret/b.txt"]) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `body of ${key}` }));
    }
    const anon = (method: string, key: string, body?: string) =>
      fetch(`${server.endpoint}/${BUCKET}/${key}`, { method, ...(body ? { body } : {}) });

    await t.step("without a policy anonymous requests are denied", async () => {
      const r = await anon("GET", "public/a.txt");
      equal(r.status, 403);
      equal(await codeOf(r), "AccessDenied");
      equal(
        await errorCode(s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))),
        "NoSuchBucketPolicy",
      );
      equal(
        await errorCode(s3.send(new GetBucketPolicyStatusCommand({ Bucket: BUCKET }))),
        "NoSuchBucketPolicy",
      );
    });

    await t.step("a public-read policy is stored and reported public", async () => {
      const text = JSON.stringify(PUBLIC_READ_EXCEPT_SECRET);
      await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: text }));
      const got = await s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }));
      deepEqual(JSON.parse(got.Policy ?? ""), PUBLIC_READ_EXCEPT_SECRET);
      const status = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: BUCKET }));
      equal(status.PolicyStatus?.IsPublic, true);
    });

    await t.step("anonymous GET is served, anonymous PUT and DELETE are refused", async () => {
      const r = await anon("GET", "public/a.txt");
      equal(r.status, 200);
      equal(await r.text(), "body of public/a.txt");
      const put = await anon("PUT", "public/new.txt", "hello");
      equal(put.status, 403);
      equal(await codeOf(put), "AccessDenied");
      const del = await anon("DELETE", "public/a.txt");
      equal(del.status, 403);
      await del.body?.cancel();
      const list = await fetch(`${server.endpoint}/${BUCKET}`);
      equal(list.status, 403, "listing was not granted");
      await list.body?.cancel();
      const buckets = await fetch(`${server.endpoint}/`);
      equal(buckets.status, 403);
      await buckets.body?.cancel();
    });

    await t.step("the Deny on secret/ beats the public Allow", async () => {
      const r = await anon("GET", "secret/b.txt");
      equal(r.status, 403);
      equal(await codeOf(r), "AccessDenied");
    });

    await t.step("root is not bound by the bucket policy", async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "secret/c.txt", Body: "c" }));
    });

    await t.step("malformed and oversized policies are refused with MalformedPolicy", async () => {
      const put = (Policy: string) =>
        errorCode(s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy })));
      equal(await put("not json"), "MalformedPolicy");
      equal(
        await put(JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow" }] })),
        "MalformedPolicy",
      );
      equal(
        await put(JSON.stringify({
          Version: "2012-10-17",
          Statement: [{
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: "arn:aws:s3:::another-bucket/*",
          }],
        })),
        "MalformedPolicy",
      );
      const big = {
        ...PUBLIC_READ_EXCEPT_SECRET,
        Id: "x".repeat(BUCKET_POLICY_BYTES_MAX),
      };
      equal(await put(JSON.stringify(big)), "MalformedPolicy");
      // The earlier policy still holds.
      const r = await anon("GET", "public/a.txt");
      equal(r.status, 200);
      await r.body?.cancel();
    });

    await t.step("deleting the policy closes the bucket again", async () => {
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
      const r = await anon("GET", "public/a.txt");
      equal(r.status, 403);
      await r.body?.cancel();
      equal(
        await errorCode(s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))),
        "NoSuchBucketPolicy",
      );
    });

    await t.step(
      "a policy granting anonymous PUT on a prefix lets fetch upload there only",
      async () => {
        await s3.send(
          new PutBucketPolicyCommand({
            Bucket: BUCKET,
            Policy: JSON.stringify({
              Version: "2012-10-17",
              Statement: [{
                Effect: "Allow",
                Principal: "*",
                Action: ["s3:PutObject", "s3:GetObject"],
                Resource: [`arn:aws:s3:::${BUCKET}/dropbox/*`],
              }],
            }),
          }),
        );
        const put = await anon("PUT", "dropbox/note.txt", "dropped");
        equal(put.status, 200, await put.text());
        const got = await anon("GET", "dropbox/note.txt");
        equal(await got.text(), "dropped");
        const outside = await anon("PUT", "public/note.txt", "x");
        equal(outside.status, 403);
        await outside.body?.cancel();
        await s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
      },
    );

    await t.step("a policy on a missing bucket is NoSuchBucket", async () => {
      equal(
        await errorCode(
          s3.send(
            new PutBucketPolicyCommand({
              Bucket: "no-such-bucket",
              Policy: JSON.stringify(PUBLIC_READ_EXCEPT_SECRET),
            }),
          ),
        ),
        "NoSuchBucket",
      );
    });
  } finally {
    s3.destroy();
    equal(await server.stop(), 0);
  }
  ok(true);
});
