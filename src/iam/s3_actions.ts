/**
 * Which IAM actions an S3 operation needs, on which resource, and the condition context a request
 * carries. Action names and the keys follow AWS's "Actions, resources, and condition keys for
 * Amazon S3"; HeadBucket needs s3:ListBucket and HeadObject s3:GetObject, as AWS documents.
 */

export interface S3RequestFacts {
  /** The S3 operation as AWS names it (`GetObject`). */
  operation: string;
  bucket?: string;
  key?: string;
  headers: Headers;
  query: URLSearchParams;
  /** True over TLS. */
  secure: boolean;
  /** The client address as the server saw it. */
  sourceIp?: string;
  now: Date;
  /** How SigV4 came: header, presigned query, or none (anonymous). */
  authType: "REST-HEADER" | "REST-QUERY-STRING" | "POST" | "anonymous";
}

export interface ActionCheck {
  action: string;
  resource: string;
}

const BUCKET = "bucket";
const OBJECT = "object";
const SERVICE = "service";
type Target = typeof BUCKET | typeof OBJECT | typeof SERVICE;

/** Operation -> [action, what it applies to]. */
export const OPERATION_ACTIONS: Readonly<Record<string, readonly [string, Target]>> = {
  ListBuckets: ["s3:ListAllMyBuckets", SERVICE],
  CreateBucket: ["s3:CreateBucket", BUCKET],
  HeadBucket: ["s3:ListBucket", BUCKET],
  DeleteBucket: ["s3:DeleteBucket", BUCKET],
  GetBucketLocation: ["s3:GetBucketLocation", BUCKET],
  GetBucketVersioning: ["s3:GetBucketVersioning", BUCKET],
  PutBucketVersioning: ["s3:PutBucketVersioning", BUCKET],
  ListObjects: ["s3:ListBucket", BUCKET],
  ListObjectsV2: ["s3:ListBucket", BUCKET],
  ListObjectVersions: ["s3:ListBucketVersions", BUCKET],
  ListMultipartUploads: ["s3:ListBucketMultipartUploads", BUCKET],
  // DeleteObjects is checked key by key (s3:DeleteObject on each).
  DeleteObjects: ["s3:DeleteObject", OBJECT],
  PostObject: ["s3:PutObject", OBJECT],
  GetBucketTagging: ["s3:GetBucketTagging", BUCKET],
  PutBucketTagging: ["s3:PutBucketTagging", BUCKET],
  DeleteBucketTagging: ["s3:PutBucketTagging", BUCKET],
  GetBucketCors: ["s3:GetBucketCORS", BUCKET],
  PutBucketCors: ["s3:PutBucketCORS", BUCKET],
  DeleteBucketCors: ["s3:PutBucketCORS", BUCKET],
  GetBucketAcl: ["s3:GetBucketAcl", BUCKET],
  PutBucketAcl: ["s3:PutBucketAcl", BUCKET],
  GetBucketPolicy: ["s3:GetBucketPolicy", BUCKET],
  PutBucketPolicy: ["s3:PutBucketPolicy", BUCKET],
  DeleteBucketPolicy: ["s3:DeleteBucketPolicy", BUCKET],
  GetBucketPolicyStatus: ["s3:GetBucketPolicyStatus", BUCKET],
  GetBucketEncryption: ["s3:GetEncryptionConfiguration", BUCKET],
  PutBucketEncryption: ["s3:PutEncryptionConfiguration", BUCKET],
  DeleteBucketEncryption: ["s3:PutEncryptionConfiguration", BUCKET],
  PutObject: ["s3:PutObject", OBJECT],
  GetObject: ["s3:GetObject", OBJECT],
  HeadObject: ["s3:GetObject", OBJECT],
  DeleteObject: ["s3:DeleteObject", OBJECT],
  // CopyObject and UploadPartCopy also need s3:GetObject on the source (copySourceCheck).
  CopyObject: ["s3:PutObject", OBJECT],
  GetObjectAttributes: ["s3:GetObjectAttributes", OBJECT],
  GetObjectTagging: ["s3:GetObjectTagging", OBJECT],
  PutObjectTagging: ["s3:PutObjectTagging", OBJECT],
  DeleteObjectTagging: ["s3:DeleteObjectTagging", OBJECT],
  GetObjectAcl: ["s3:GetObjectAcl", OBJECT],
  PutObjectAcl: ["s3:PutObjectAcl", OBJECT],
  CreateMultipartUpload: ["s3:PutObject", OBJECT],
  UploadPart: ["s3:PutObject", OBJECT],
  UploadPartCopy: ["s3:PutObject", OBJECT],
  CompleteMultipartUpload: ["s3:PutObject", OBJECT],
  AbortMultipartUpload: ["s3:AbortMultipartUpload", OBJECT],
  ListParts: ["s3:ListMultipartUploadParts", OBJECT],
};

/**
 * Operations no policy governs: a CORS preflight carries no credentials by design; AssumeRole is
 * open to every signed IAM user (it checks its caller itself), as in MinIO.
 */
export const UNAUTHORIZED_OPERATIONS: ReadonlySet<string> = new Set([
  "OptionsObject",
  "AssumeRole",
]);

export function s3Arn(bucket?: string, key?: string): string {
  if (bucket === undefined) return "arn:aws:s3:::";
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}

/** The check an operation needs; undefined for an operation the map does not know. */
export function actionFor(facts: S3RequestFacts, key = facts.key): ActionCheck | undefined {
  const entry = OPERATION_ACTIONS[facts.operation];
  if (entry === undefined) return undefined;
  const [action, target] = entry;
  if (target === SERVICE) return { action, resource: s3Arn() };
  if (target === BUCKET) return { action, resource: s3Arn(facts.bucket) };
  return { action, resource: s3Arn(facts.bucket, key ?? "") };
}

/** s3:GetObject on the copy source of CopyObject / UploadPartCopy. */
export function copySourceCheck(source: { bucket: string; key: string }): ActionCheck {
  return { action: "s3:GetObject", resource: s3Arn(source.bucket, source.key) };
}

/** The condition keys a request defines (AWS global keys and S3's own). */
export function requestContext(
  facts: S3RequestFacts,
  who: { username: string; userId: string } | undefined,
): Record<string, string[]> {
  const ctx: Record<string, string[]> = {
    "aws:CurrentTime": [facts.now.toISOString().replace(/\.\d{3}Z$/, "Z")],
    "aws:EpochTime": [String(Math.floor(facts.now.getTime() / 1000))],
    "aws:SecureTransport": [String(facts.secure)],
    "aws:PrincipalType": [who === undefined ? "Anonymous" : "User"],
  };
  if (facts.sourceIp !== undefined) ctx["aws:SourceIp"] = [facts.sourceIp];
  const header = (name: string, key: string) => {
    const v = facts.headers.get(name);
    if (v !== null) ctx[key] = [v];
  };
  header("user-agent", "aws:UserAgent");
  header("referer", "aws:Referer");
  if (who !== undefined) {
    ctx["aws:username"] = [who.username];
    ctx["aws:userid"] = [who.userId];
  }
  if (facts.authType !== "anonymous") {
    ctx["s3:authType"] = [facts.authType];
    ctx["s3:signatureversion"] = ["AWS4-HMAC-SHA256"];
  }
  for (const name of ["prefix", "delimiter", "max-keys"]) {
    const v = facts.query.get(name);
    if (v !== null && facts.operation.startsWith("List")) ctx[`s3:${name}`] = [v];
  }
  for (
    const name of [
      "x-amz-acl",
      "x-amz-copy-source",
      "x-amz-metadata-directive",
      "x-amz-server-side-encryption",
      "x-amz-server-side-encryption-aws-kms-key-id",
      "x-amz-server-side-encryption-customer-algorithm",
      "x-amz-storage-class",
      "x-amz-content-sha256",
    ]
  ) {
    header(name, `s3:${name}`);
  }
  const tagging = facts.headers.get("x-amz-tagging");
  if (tagging !== null) {
    const keys: string[] = [];
    for (const [k, v] of new URLSearchParams(tagging)) {
      keys.push(k);
      ctx[`s3:RequestObjectTag/${k}`] = [v];
    }
    ctx["s3:RequestObjectTagKeys"] = keys;
  }
  const version = facts.query.get("versionId");
  if (version !== null) ctx["s3:VersionId"] = [version];
  return ctx;
}
