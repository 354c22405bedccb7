/**
 * Request -> one S3 operation, named as AWS names it. Path-style (`/bucket/key`) always; virtual-
 * host style (`bucket.<domain>/key`) for the configured domains. Subresources Shale does not build
 * yet route to NotImplemented (501) with the AWS operation name, never to a 404.
 */
import { S3Error } from "./errors.ts";

export const OPERATIONS = [
  "ListBuckets",
  "CreateBucket",
  "HeadBucket",
  "DeleteBucket",
  "GetBucketLocation",
  "GetBucketVersioning",
  "ListObjects",
  "ListObjectsV2",
  "ListObjectVersions",
  "ListMultipartUploads",
  "DeleteObjects",
  "PostObject",
  "GetBucketTagging",
  "PutBucketTagging",
  "DeleteBucketTagging",
  "GetBucketCors",
  "PutBucketCors",
  "DeleteBucketCors",
  "GetBucketAcl",
  "GetBucketPolicy",
  "PutBucketPolicy",
  "DeleteBucketPolicy",
  "GetBucketPolicyStatus",
  "GetBucketEncryption",
  "PutBucketEncryption",
  "DeleteBucketEncryption",
  "OptionsObject",
  "PutObject",
  "GetObject",
  "HeadObject",
  "DeleteObject",
  "CopyObject",
  "GetObjectAttributes",
  "GetObjectTagging",
  "PutObjectTagging",
  "DeleteObjectTagging",
  "GetObjectAcl",
  "CreateMultipartUpload",
  "UploadPart",
  "UploadPartCopy",
  "CompleteMultipartUpload",
  "AbortMultipartUpload",
  "ListParts",
  "AssumeRole",
] as const;

export type OperationName = typeof OPERATIONS[number];

export type Route =
  | { operation: OperationName; bucket?: string; key?: string }
  /** A real S3 operation Shale does not build yet: answered 501 NotImplemented. */
  | { operation: "NotImplemented"; awsName: string; bucket?: string; key?: string };

export interface RouteInput {
  method: string;
  /** The request URL (for the query). */
  url: URL;
  /**
   * The path exactly as sent, still percent-encoded and not normalised: `new URL()` would fold
   * `a/../b` and `a/./b`, which are legal, distinct S3 keys.
   */
  rawPath: string;
  /** The Host header (or the URL's host). */
  host: string;
  headers: Headers;
}

/** Bucket subresources and the noun of their Get/Put/Delete operations, when Shale lacks them. */
const UNBUILT_BUCKET_SUBRESOURCES: Record<string, string> = {
  accelerate: "BucketAccelerateConfiguration",
  analytics: "BucketAnalyticsConfiguration",
  "intelligent-tiering": "BucketIntelligentTieringConfiguration",
  inventory: "BucketInventoryConfiguration",
  lifecycle: "BucketLifecycleConfiguration",
  logging: "BucketLogging",
  metrics: "BucketMetricsConfiguration",
  notification: "BucketNotificationConfiguration",
  "object-lock": "ObjectLockConfiguration",
  ownershipControls: "BucketOwnershipControls",
  publicAccessBlock: "PublicAccessBlock",
  replication: "BucketReplication",
  requestPayment: "BucketRequestPayment",
  website: "BucketWebsite",
  metadataTable: "BucketMetadataTableConfiguration",
  session: "Session",
};

const UNBUILT_OBJECT_SUBRESOURCES: Record<string, string> = {
  "legal-hold": "ObjectLegalHold",
  retention: "ObjectRetention",
  torrent: "ObjectTorrent",
};

const VERB: Record<string, string> = { GET: "Get", PUT: "Put", DELETE: "Delete", HEAD: "Head" };

/** Splits host and path into bucket and key, both decoded. */
export function locate(
  rawPath: string,
  host: string,
  domains: readonly string[],
): { bucket?: string; key?: string } {
  const hostname = host.toLowerCase().replace(/:\d+$/, "");
  let path = rawPath;
  let bucket: string | undefined;
  for (const domain of domains) {
    if (hostname.endsWith("." + domain) && hostname.length > domain.length + 1) {
      bucket = hostname.slice(0, hostname.length - domain.length - 1);
      break;
    }
  }
  if (bucket === undefined) {
    path = path.replace(/^\/+/, "");
    const slash = path.indexOf("/");
    const rawBucket = slash < 0 ? path : path.slice(0, slash);
    if (rawBucket === "") return {};
    bucket = decode(rawBucket);
    path = slash < 0 ? "" : path.slice(slash + 1);
  } else {
    path = path.slice(1);
  }
  const key = decode(path);
  return key === "" ? { bucket } : { bucket, key };
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error("InvalidURI");
  }
}

/** The path and query of a request URL as sent (Request.url keeps them; `new URL` normalises). */
export function rawTarget(requestUrl: string): { rawPath: string; rawQuery: string } {
  const scheme = requestUrl.indexOf("://");
  const slash = requestUrl.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  const target = slash < 0 ? "/" : requestUrl.slice(slash);
  const q = target.indexOf("?");
  const beforeFragment = (t: string) => (t.includes("#") ? t.slice(0, t.indexOf("#")) : t);
  return q < 0
    ? { rawPath: beforeFragment(target), rawQuery: "" }
    : { rawPath: target.slice(0, q), rawQuery: beforeFragment(target.slice(q + 1)) };
}

/** Routes one request; throws S3Error (MethodNotAllowed, InvalidURI) when it names nothing. */
export function routeRequest(input: RouteInput, domains: readonly string[]): Route {
  const method = input.method.toUpperCase();
  const q = input.url.searchParams;
  const where = locate(input.rawPath, input.host, domains);
  const { bucket, key } = where;
  const notImplemented = (awsName: string): Route => ({
    operation: "NotImplemented",
    awsName,
    ...where,
  });
  const op = (operation: OperationName): Route => ({ operation, ...where });

  if (!["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"].includes(method)) {
    throw new S3Error("MethodNotAllowed");
  }
  if (bucket === undefined) {
    if (method === "GET") return op("ListBuckets");
    if (method === "OPTIONS") return op("OptionsObject");
    // STS at the S3 endpoint, as MinIO (the Action is in the form body).
    if (method === "POST") return op("AssumeRole");
    throw new S3Error("MethodNotAllowed");
  }
  if (method === "OPTIONS") return op("OptionsObject");

  if (key === undefined) {
    if (q.has("policyStatus")) {
      if (method === "GET") return op("GetBucketPolicyStatus");
      throw new S3Error("MethodNotAllowed");
    }
    if (q.has("encryption")) {
      if (method === "GET") return op("GetBucketEncryption");
      if (method === "PUT") return op("PutBucketEncryption");
      if (method === "DELETE") return op("DeleteBucketEncryption");
      throw new S3Error("MethodNotAllowed");
    }
    if (q.has("policy")) {
      if (method === "GET") return op("GetBucketPolicy");
      if (method === "PUT") return op("PutBucketPolicy");
      if (method === "DELETE") return op("DeleteBucketPolicy");
      throw new S3Error("MethodNotAllowed");
    }
    for (const [sub, noun] of Object.entries(UNBUILT_BUCKET_SUBRESOURCES)) {
      if (q.has(sub)) return notImplemented(`${VERB[method] ?? method}${noun}`);
    }
    switch (method) {
      case "GET":
        if (q.has("location")) return op("GetBucketLocation");
        if (q.has("versioning")) return op("GetBucketVersioning");
        if (q.has("tagging")) return op("GetBucketTagging");
        if (q.has("cors")) return op("GetBucketCors");
        if (q.has("acl")) return op("GetBucketAcl");
        if (q.has("uploads")) return op("ListMultipartUploads");
        if (q.has("versions")) return op("ListObjectVersions");
        if (q.get("list-type") === "2") return op("ListObjectsV2");
        return op("ListObjects");
      case "HEAD":
        return op("HeadBucket");
      case "PUT":
        // Versioning is not built: enabling it must not silently succeed.
        if (q.has("versioning")) return notImplemented("PutBucketVersioning");
        if (q.has("acl")) return notImplemented("PutBucketAcl");
        if (q.has("tagging")) return op("PutBucketTagging");
        if (q.has("cors")) return op("PutBucketCors");
        return op("CreateBucket");
      case "DELETE":
        if (q.has("tagging")) return op("DeleteBucketTagging");
        if (q.has("cors")) return op("DeleteBucketCors");
        return op("DeleteBucket");
      case "POST":
        if (q.has("delete")) return op("DeleteObjects");
        return op("PostObject");
    }
    throw new S3Error("MethodNotAllowed");
  }

  for (const [sub, noun] of Object.entries(UNBUILT_OBJECT_SUBRESOURCES)) {
    if (q.has(sub)) return notImplemented(`${VERB[method] ?? method}${noun}`);
  }
  switch (method) {
    case "GET":
      if (q.has("uploadId")) return op("ListParts");
      if (q.has("tagging")) return op("GetObjectTagging");
      if (q.has("acl")) return op("GetObjectAcl");
      if (q.has("attributes")) return op("GetObjectAttributes");
      return op("GetObject");
    case "HEAD":
      return op("HeadObject");
    case "PUT":
      if (q.has("acl")) return notImplemented("PutObjectAcl");
      if (q.has("tagging")) return op("PutObjectTagging");
      if (q.has("uploadId") || q.has("partNumber")) {
        return op(input.headers.has("x-amz-copy-source") ? "UploadPartCopy" : "UploadPart");
      }
      if (input.headers.has("x-amz-copy-source")) return op("CopyObject");
      return op("PutObject");
    case "DELETE":
      if (q.has("uploadId")) return op("AbortMultipartUpload");
      if (q.has("tagging")) return op("DeleteObjectTagging");
      return op("DeleteObject");
    case "POST":
      if (q.has("uploads")) return op("CreateMultipartUpload");
      if (q.has("uploadId")) return op("CompleteMultipartUpload");
      if (q.has("restore")) return notImplemented("RestoreObject");
      if (q.has("select")) return notImplemented("SelectObjectContent");
      throw new S3Error("MethodNotAllowed");
  }
  throw new S3Error("MethodNotAllowed");
}
