import assert from "node:assert/strict";
import { type PostPolicyOptions, verifyPostPolicy } from "./post_policy.ts";
import { deriveSigningKey, hmacHex } from "./_crypto.ts";

// AWS sigv4-post-example.html: the policy (base64, with its CRLFs) and the signature it documents.
const POLICY =
  "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
const SIGNATURE = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
const AK = "AKIAIOSFODNN7EXAMPLE";
const SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

function exampleForm(): Record<string, string> {
  return {
    key: "user/user1/${filename}",
    acl: "public-read",
    success_action_redirect: "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
    "Content-Type": "image/jpeg",
    "x-amz-meta-uuid": "14365123651274",
    "x-amz-server-side-encryption": "AES256",
    "X-Amz-Credential": `${AK}/20151229/us-east-1/s3/aws4_request`,
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Date": "20151229T000000Z",
    "x-amz-meta-tag": "",
    Policy: POLICY,
    "X-Amz-Signature": SIGNATURE,
  };
}

function options(overrides: Partial<PostPolicyOptions> = {}): PostPolicyOptions {
  return {
    region: "us-east-1",
    now: new Date(Date.UTC(2015, 11, 29, 10)),
    bucket: "sigv4examplebucket",
    filename: "photo.jpg",
    lookup: (k) => k === AK ? { accessKey: AK, secretKey: SK } : undefined,
    ...overrides,
  };
}

/** A form for our own policy document, signed as a browser-upload helper would sign it. */
function signedForm(policy: object, extra: Record<string, string>): Record<string, string> {
  const base64 = btoa(JSON.stringify(policy));
  const key = deriveSigningKey(SK, "20151229", "us-east-1");
  return {
    "x-amz-credential": `${AK}/20151229/us-east-1/s3/aws4_request`,
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-date": "20151229T000000Z",
    policy: base64,
    "x-amz-signature": hmacHex(key, base64),
    ...extra,
  };
}

const SCOPE_CONDITIONS = [
  { "x-amz-credential": `${AK}/20151229/us-east-1/s3/aws4_request` },
  { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
  { "x-amz-date": "20151229T000000Z" },
];

Deno.test("verifies the AWS documentation's POST policy example", async () => {
  const result = await verifyPostPolicy(exampleForm(), options());
  assert.equal(result.kind, "signed");
  if (result.kind !== "signed") return;
  assert.equal(result.accessKey, AK);
  assert.equal(result.key, "user/user1/photo.jpg");
  assert.equal(result.contentLengthRange, undefined);
});

Deno.test("rejects the example once its policy has expired", async () => {
  await assert.rejects(
    verifyPostPolicy(exampleForm(), options({ now: new Date(Date.UTC(2015, 11, 30, 12, 0, 1)) })),
    { code: "AccessDenied", message: /Policy expired/ },
  );
});

Deno.test("rejects a POST policy whose signature or policy was changed", async () => {
  const form = exampleForm();
  form["X-Amz-Signature"] = SIGNATURE.replace("8a", "8b");
  await assert.rejects(verifyPostPolicy(form, options()), { code: "SignatureDoesNotMatch" });
  const edited = exampleForm();
  edited.Policy = POLICY.slice(0, -4) + "fQ==";
  await assert.rejects(verifyPostPolicy(edited, options()), { code: "SignatureDoesNotMatch" });
});

Deno.test("holds every field to its condition", async () => {
  const cases: Array<[string, string]> = [
    ["key", "user/user2/${filename}"],
    ["Content-Type", "text/html"],
    ["acl", "public-read-write"],
    ["x-amz-meta-uuid", "1"],
  ];
  for (const [name, value] of cases) {
    const form = exampleForm();
    form[name] = value;
    await assert.rejects(verifyPostPolicy(form, options()), {
      code: "AccessDenied",
      message: /Invalid according to Policy: Policy Condition failed/,
    }, name);
  }
  await assert.rejects(verifyPostPolicy(exampleForm(), options({ bucket: "otherbucket" })), {
    code: "AccessDenied",
  });
});

Deno.test("refuses form fields that no condition names, except the exempt ones", async () => {
  const form = exampleForm();
  form["x-amz-meta-extra"] = "1";
  await assert.rejects(verifyPostPolicy(form, options()), {
    code: "AccessDenied",
    message: /Extra input fields: x-amz-meta-extra/,
  });
  const ignored = exampleForm();
  ignored["x-ignore-submit"] = "Upload";
  assert.equal((await verifyPostPolicy(ignored, options())).kind, "signed");
});

Deno.test("returns content-length-range and applies eq and starts-with as AWS does", async () => {
  const policy = {
    expiration: "2015-12-30T00:00:00Z",
    conditions: [
      ...SCOPE_CONDITIONS,
      ["eq", "$bucket", "b"],
      ["starts-with", "$key", ""],
      ["starts-with", "$x-amz-meta-free", ""],
      ["EQ", "$Content-Type", "text/plain"],
      ["content-length-range", 1, 1048576],
    ],
  };
  const ok = await verifyPostPolicy(
    signedForm(policy, { key: "any/thing", "content-type": "text/plain" }),
    options({ bucket: "b" }),
  );
  assert.equal(ok.kind, "signed");
  if (ok.kind === "signed") assert.deepEqual(ok.contentLengthRange, { min: 1, max: 1048576 });
  // An eq condition on a field the form lacks fails; starts-with "" on it passes.
  await assert.rejects(
    verifyPostPolicy(signedForm(policy, { key: "k" }), options({ bucket: "b" })),
    { code: "AccessDenied" },
  );
});

Deno.test("treats a form without any signature field as anonymous", async () => {
  assert.deepEqual(await verifyPostPolicy({ key: "a/${filename}" }, options({ filename: "f" })), {
    kind: "anonymous",
    key: "a/f",
  });
});

Deno.test("names the missing field of an incomplete signed form", async () => {
  for (const name of ["X-Amz-Signature", "X-Amz-Date", "Policy", "key", "X-Amz-Algorithm"]) {
    const form = exampleForm();
    delete form[name];
    await assert.rejects(verifyPostPolicy(form, options()), {
      code: "InvalidArgument",
      message: new RegExp(`'${name.toLowerCase()}'`),
    }, name);
  }
  const v2 = { key: "k", AWSAccessKeyId: AK, signature: "x", policy: POLICY };
  await assert.rejects(verifyPostPolicy(v2, options()), { code: "InvalidRequest" });
});

Deno.test("refuses a policy that is not base64 JSON with expiration and conditions", async () => {
  const bad = [
    { expiration: "2015-12-30T00:00:00Z" },
    { conditions: [] },
    { expiration: "soon", conditions: [] },
    { expiration: "2015-12-30T00:00:00Z", conditions: [["in", "$key", "a"]] },
    { expiration: "2015-12-30T00:00:00Z", conditions: [["content-length-range", 5, 1]] },
    { expiration: "2015-12-30T00:00:00Z", conditions: [["eq", "key", "a"]] },
  ];
  for (const policy of bad) {
    await assert.rejects(verifyPostPolicy(signedForm(policy, { key: "k" }), options()), {
      code: "MalformedPOSTRequest",
    }, JSON.stringify(policy));
  }
  const notJson = signedForm({}, { key: "k" });
  notJson.policy = btoa("{not json");
  notJson["x-amz-signature"] = hmacHex(
    deriveSigningKey(SK, "20151229", "us-east-1"),
    notJson.policy,
  );
  await assert.rejects(verifyPostPolicy(notJson, options()), { code: "MalformedPOSTRequest" });
});

Deno.test("checks the credential scope of a POST form", async () => {
  const form = exampleForm();
  await assert.rejects(verifyPostPolicy(form, options({ region: "eu-west-1" })), {
    code: "AuthorizationQueryParametersError",
    message: /expecting 'eu-west-1'/,
  });
  await assert.rejects(verifyPostPolicy(form, options({ lookup: () => undefined })), {
    code: "InvalidAccessKeyId",
  });
});
