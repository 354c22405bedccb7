import assert from "node:assert/strict";
import { isAllowed } from "./authorize.ts";
import { cannedPolicy } from "./canned.ts";
import type { Identity } from "./identity.ts";
import { parsePolicy } from "./policy.ts";
import { actionFor, requestContext, type S3RequestFacts } from "./s3_actions.ts";

const readonly = cannedPolicy("readonly")!;
const readwrite = cannedPolicy("readwrite")!;
const user = (policies = [readonly], limits?: Identity["limits"]): Identity => ({
  accessKey: "AKUSER",
  username: "user",
  isRoot: false,
  policies,
  ...(limits !== undefined ? { limits } : {}),
});

function facts(operation: string, extra: Partial<S3RequestFacts> = {}): S3RequestFacts {
  return {
    operation,
    bucket: "b",
    key: "docs/a.txt",
    headers: new Headers(),
    query: new URLSearchParams(),
    secure: false,
    now: new Date("2026-11-25T12:00:00Z"),
    authType: "REST-HEADER",
    ...extra,
  };
}

async function allowed(
  f: S3RequestFacts,
  identity: Identity | undefined,
  bucketPolicyJson?: string,
  objectTags?: Array<[string, string]>,
): Promise<boolean> {
  const check = actionFor(f);
  assert.ok(check, f.operation);
  return await isAllowed(check, {
    identity,
    bucketPolicy: bucketPolicyJson === undefined
      ? undefined
      : parsePolicy(bucketPolicyJson, { kind: "bucket", bucket: "b" }),
    context: requestContext(
      f,
      identity === undefined
        ? undefined
        : { username: identity.username, userId: identity.accessKey },
    ),
    ...(objectTags !== undefined ? { objectTags: () => Promise.resolve(objectTags) } : {}),
  });
}

const PUBLIC_READ = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{
    Effect: "Allow",
    Principal: "*",
    Action: "s3:GetObject",
    Resource: "arn:aws:s3:::b/*",
  }],
});

Deno.test("root is allowed everything, even against a denying bucket policy", async () => {
  const deny = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::b/*" }],
  });
  const root: Identity = { accessKey: "root", username: "root", isRoot: true, policies: [] };
  assert.ok(await allowed(facts("PutObject"), root, deny));
});

Deno.test("a readonly user may GET and HEAD but not PUT, DELETE or list", async () => {
  assert.ok(await allowed(facts("GetObject"), user()));
  assert.ok(await allowed(facts("HeadObject"), user()));
  assert.ok(!await allowed(facts("PutObject"), user()));
  assert.ok(!await allowed(facts("DeleteObject"), user()));
  assert.ok(
    !await allowed({ ...facts("ListObjectsV2"), key: "" }, user()),
  );
});

Deno.test("anonymous requests are judged by the bucket policy alone", async () => {
  assert.ok(!await allowed(facts("GetObject"), undefined));
  assert.ok(await allowed(facts("GetObject"), undefined, PUBLIC_READ));
  assert.ok(!await allowed(facts("PutObject"), undefined, PUBLIC_READ));
  assert.ok(!await allowed(facts("ListBuckets"), undefined, PUBLIC_READ));
});

Deno.test("a bucket policy allow grants a user without identity policies", async () => {
  assert.ok(await allowed(facts("GetObject"), user([]), PUBLIC_READ));
  assert.ok(!await allowed(facts("PutObject"), user([]), PUBLIC_READ));
});

Deno.test("a bucket policy deny beats the user's readwrite policy", async () => {
  const denySecret = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Deny",
      Principal: { AWS: ["user"] },
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::b/secret/*",
    }],
  });
  assert.ok(await allowed(facts("GetObject"), user([readwrite]), denySecret));
  assert.ok(!await allowed(facts("GetObject", { key: "secret/x" }), user([readwrite]), denySecret));
});

Deno.test("limits (inline or session policies) intersect with the user's policies", async () => {
  const onlyDocs = parsePolicy(
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b/docs/*" }],
    }),
    { kind: "identity" },
  );
  const limited = user([readwrite], [[onlyDocs]]);
  assert.ok(await allowed(facts("PutObject"), limited));
  assert.ok(!await allowed(facts("PutObject", { key: "other/x" }), limited));
  // A limit cannot widen: readonly parent, readwrite limit.
  assert.ok(!await allowed(facts("PutObject"), user([readonly], [[readwrite]])));
});

Deno.test("s3:ExistingObjectTag conditions see the object's tags", async () => {
  const p = parsePolicy(
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: "arn:aws:s3:::b/*",
        Condition: { StringEquals: { "s3:ExistingObjectTag/classification": "public" } },
      }],
    }),
    { kind: "identity" },
  );
  assert.ok(
    await allowed(facts("GetObject"), user([p]), undefined, [["classification", "public"]]),
  );
  assert.ok(
    !await allowed(facts("GetObject"), user([p]), undefined, [["classification", "secret"]]),
  );
  assert.ok(!await allowed(facts("GetObject"), user([p]), undefined, []));
});

Deno.test("the request context carries list parameters, headers and request tags", () => {
  const ctx = requestContext(
    facts("ListObjectsV2", {
      query: new URLSearchParams("list-type=2&prefix=home%2F&delimiter=%2F&max-keys=5"),
      headers: new Headers({ "user-agent": "ua", "x-amz-tagging": "a=1&b=2" }),
      sourceIp: "10.0.0.1",
      secure: true,
    }),
    { username: "alice", userId: "AKALICE" },
  );
  assert.deepEqual(ctx["s3:prefix"], ["home/"]);
  assert.deepEqual(ctx["s3:delimiter"], ["/"]);
  assert.deepEqual(ctx["s3:max-keys"], ["5"]);
  assert.deepEqual(ctx["aws:SourceIp"], ["10.0.0.1"]);
  assert.deepEqual(ctx["aws:SecureTransport"], ["true"]);
  assert.deepEqual(ctx["aws:username"], ["alice"]);
  assert.deepEqual(ctx["aws:UserAgent"], ["ua"]);
  assert.deepEqual(ctx["aws:CurrentTime"], ["2026-11-25T12:00:00Z"]);
  assert.deepEqual(ctx["s3:RequestObjectTagKeys"], ["a", "b"]);
  assert.deepEqual(ctx["s3:RequestObjectTag/b"], ["2"]);
});
