import { deepEqual, throws } from "node:assert/strict";
import { S3Error } from "./errors.ts";
import { rawTarget, routeRequest } from "./router.ts";

function route(
  method: string,
  target: string,
  opts: { host?: string; headers?: Record<string, string> } = {},
) {
  const host = opts.host ?? "127.0.0.1:9000";
  return routeRequest(
    {
      method,
      url: new URL(`http://${host}${target}`),
      rawPath: rawTarget(`http://${host}${target}`).rawPath,
      host,
      headers: new Headers(opts.headers),
    },
    ["s3.example.com"],
  );
}

const TABLE: Array<[string, string, string, string?, string?, Record<string, string>?]> = [
  ["GET", "/", "ListBuckets"],
  ["PUT", "/b", "CreateBucket", "b"],
  ["PUT", "/b/", "CreateBucket", "b"],
  ["HEAD", "/b", "HeadBucket", "b"],
  ["DELETE", "/b", "DeleteBucket", "b"],
  ["GET", "/b?location", "GetBucketLocation", "b"],
  ["GET", "/b?versioning", "GetBucketVersioning", "b"],
  ["GET", "/b", "ListObjects", "b"],
  ["GET", "/b?list-type=2&prefix=a", "ListObjectsV2", "b"],
  ["GET", "/b?versions", "ListObjectVersions", "b"],
  ["GET", "/b?uploads", "ListMultipartUploads", "b"],
  ["POST", "/b?delete", "DeleteObjects", "b"],
  ["POST", "/b", "PostObject", "b"],
  ["GET", "/b?tagging", "GetBucketTagging", "b"],
  ["PUT", "/b?tagging", "PutBucketTagging", "b"],
  ["DELETE", "/b?tagging", "DeleteBucketTagging", "b"],
  ["GET", "/b?cors", "GetBucketCors", "b"],
  ["PUT", "/b?cors", "PutBucketCors", "b"],
  ["DELETE", "/b?cors", "DeleteBucketCors", "b"],
  ["GET", "/b?acl", "GetBucketAcl", "b"],
  ["OPTIONS", "/b/k", "OptionsObject", "b", "k"],
  ["PUT", "/b/k", "PutObject", "b", "k"],
  ["GET", "/b/k", "GetObject", "b", "k"],
  ["GET", "/b/k?partNumber=2", "GetObject", "b", "k"],
  ["HEAD", "/b/k", "HeadObject", "b", "k"],
  ["DELETE", "/b/k", "DeleteObject", "b", "k"],
  ["PUT", "/b/k", "CopyObject", "b", "k", { "x-amz-copy-source": "/a/b" }],
  ["GET", "/b/k?attributes", "GetObjectAttributes", "b", "k"],
  ["GET", "/b/k?tagging", "GetObjectTagging", "b", "k"],
  ["PUT", "/b/k?tagging", "PutObjectTagging", "b", "k"],
  ["DELETE", "/b/k?tagging", "DeleteObjectTagging", "b", "k"],
  ["GET", "/b/k?acl", "GetObjectAcl", "b", "k"],
  ["POST", "/b/k?uploads", "CreateMultipartUpload", "b", "k"],
  ["PUT", "/b/k?partNumber=1&uploadId=u", "UploadPart", "b", "k"],
  ["PUT", "/b/k?partNumber=1&uploadId=u", "UploadPartCopy", "b", "k", {
    "x-amz-copy-source": "a/b",
  }],
  ["POST", "/b/k?uploadId=u", "CompleteMultipartUpload", "b", "k"],
  ["DELETE", "/b/k?uploadId=u", "AbortMultipartUpload", "b", "k"],
  ["GET", "/b/k?uploadId=u", "ListParts", "b", "k"],
  ["GET", "/b/a%20b/c%2Fd", "GetObject", "b", "a b/c/d"],
  ["GET", "/b/dir/", "GetObject", "b", "dir/"],
  ["GET", "/b/a/../c", "GetObject", "b", "a/../c"],
  ["GET", "/b/./x//y", "GetObject", "b", "./x//y"],
];

Deno.test("routes every built operation by method, path and query", () => {
  for (const [method, target, operation, bucket, key, headers] of TABLE) {
    const expected: Record<string, string> = { operation };
    if (bucket !== undefined) expected.bucket = bucket;
    if (key !== undefined) expected.key = key;
    deepEqual(route(method, target, headers ? { headers } : {}), expected, `${method} ${target}`);
  }
});

Deno.test("routes unbuilt subresources to NotImplemented with the AWS name, never 404", () => {
  const cases: Array<[string, string, string]> = [
    ["PUT", "/b?versioning", "PutBucketVersioning"],
    ["PUT", "/b?lifecycle", "PutBucketLifecycleConfiguration"],
    ["GET", "/b?lifecycle", "GetBucketLifecycleConfiguration"],
    ["PUT", "/b?replication", "PutBucketReplication"],
    ["PUT", "/b?acl", "PutBucketAcl"],
    ["PUT", "/b?object-lock", "PutObjectLockConfiguration"],
    ["GET", "/b?publicAccessBlock", "GetPublicAccessBlock"],
    ["DELETE", "/b?website", "DeleteBucketWebsite"],
    ["PUT", "/b/k?acl", "PutObjectAcl"],
    ["PUT", "/b/k?retention", "PutObjectRetention"],
    ["GET", "/b/k?legal-hold", "GetObjectLegalHold"],
    ["POST", "/b/k?restore", "RestoreObject"],
    ["POST", "/b/k?select&select-type=2", "SelectObjectContent"],
  ];
  for (const [method, target, awsName] of cases) {
    const r = route(method, target);
    deepEqual(r.operation === "NotImplemented" && r.awsName, awsName, `${method} ${target}`);
  }
});

Deno.test("routes bucket policy requests", () => {
  deepEqual(route("GET", "/b?policy").operation, "GetBucketPolicy");
  deepEqual(route("PUT", "/b?policy").operation, "PutBucketPolicy");
  deepEqual(route("DELETE", "/b?policy").operation, "DeleteBucketPolicy");
  deepEqual(route("GET", "/b?policyStatus").operation, "GetBucketPolicyStatus");
});

Deno.test("routes POST to the service root to STS (AssumeRole), as MinIO", () => {
  deepEqual(route("POST", "/").operation, "AssumeRole");
});

Deno.test("routes virtual-host-style requests under a configured domain", () => {
  deepEqual(route("GET", "/photos/a.jpg", { host: "my.bucket.s3.example.com:9000" }), {
    operation: "GetObject",
    bucket: "my.bucket",
    key: "photos/a.jpg",
  });
  deepEqual(route("GET", "/?list-type=2", { host: "b.s3.example.com" }), {
    operation: "ListObjectsV2",
    bucket: "b",
  });
  deepEqual(route("GET", "/", { host: "s3.example.com" }), { operation: "ListBuckets" });
  deepEqual(route("GET", "/b/k", { host: "other.example.org" }), {
    operation: "GetObject",
    bucket: "b",
    key: "k",
  });
});

Deno.test("refuses unknown methods and undecodable paths", () => {
  const is = (code: string) => (e: unknown) => e instanceof S3Error && e.code === code;
  throws(() => route("PATCH", "/b/k"), is("MethodNotAllowed"));
  throws(() => route("PUT", "/"), is("MethodNotAllowed"));
  throws(() => route("GET", "/b/%E0%A4%A"), is("InvalidURI"));
});

Deno.test("keeps the request target as sent, dot segments and encodings included", () => {
  deepEqual(rawTarget("http://h:9000/b/a/../c?x=1&y"), { rawPath: "/b/a/../c", rawQuery: "x=1&y" });
  deepEqual(rawTarget("http://h/b/a%2Fb"), { rawPath: "/b/a%2Fb", rawQuery: "" });
  deepEqual(rawTarget("http://h"), { rawPath: "/", rawQuery: "" });
});

Deno.test("routes bucket default encryption to its three operations", () => {
  for (const [method, name] of [["GET", "Get"], ["PUT", "Put"], ["DELETE", "Delete"]]) {
    deepEqual(route(method!, "/b?encryption").operation, `${name}BucketEncryption`);
  }
});
