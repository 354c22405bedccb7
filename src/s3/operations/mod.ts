/**
 * Every built operation, by its AWS name. Each operation's module is loaded by its first request,
 * not at start-up (issue 6: start-to-ready time; the ~50 modules here cost ~8 ms of CPU at every
 * start, and most servers never see most operations). The specifiers stay string literals so that
 * `deno compile` embeds every module.
 */
import type { Operation } from "../context.ts";
import type { OperationName } from "../router.ts";
import { lazy } from "../../util/lazy.ts";

export const OPERATION_LOADERS: Record<OperationName, () => Promise<Operation>> = {
  AbortMultipartUpload: lazy(async () =>
    (await import("./abort_multipart_upload.ts")).abortMultipartUpload
  ),
  AssumeRole: lazy(async () => (await import("./assume_role.ts")).assumeRole),
  CompleteMultipartUpload: lazy(async () =>
    (await import("./complete_multipart_upload.ts")).completeMultipartUpload
  ),
  CopyObject: lazy(async () => (await import("./copy_object.ts")).copyObject),
  CreateBucket: lazy(async () => (await import("./create_bucket.ts")).createBucket),
  CreateMultipartUpload: lazy(async () =>
    (await import("./create_multipart_upload.ts")).createMultipartUpload
  ),
  DeleteBucket: lazy(async () => (await import("./delete_bucket.ts")).deleteBucket),
  DeleteBucketCors: lazy(async () => (await import("./delete_bucket_cors.ts")).deleteBucketCors),
  DeleteBucketPolicy: lazy(async () =>
    (await import("./delete_bucket_policy.ts")).deleteBucketPolicy
  ),
  GetBucketEncryption: lazy(async () =>
    (await import("./get_bucket_encryption.ts")).getBucketEncryption
  ),
  PutBucketEncryption: lazy(async () =>
    (await import("./put_bucket_encryption.ts")).putBucketEncryption
  ),
  DeleteBucketEncryption: lazy(async () =>
    (await import("./delete_bucket_encryption.ts")).deleteBucketEncryption
  ),
  DeleteBucketTagging: lazy(async () =>
    (await import("./delete_bucket_tagging.ts")).deleteBucketTagging
  ),
  DeleteObject: lazy(async () => (await import("./delete_object.ts")).deleteObject),
  DeleteObjects: lazy(async () => (await import("./delete_objects.ts")).deleteObjects),
  DeleteObjectTagging: lazy(async () =>
    (await import("./delete_object_tagging.ts")).deleteObjectTagging
  ),
  GetBucketAcl: lazy(async () => (await import("./get_bucket_acl.ts")).getBucketAcl),
  GetBucketCors: lazy(async () => (await import("./get_bucket_cors.ts")).getBucketCors),
  GetBucketLocation: lazy(async () => (await import("./get_bucket_location.ts")).getBucketLocation),
  GetBucketPolicy: lazy(async () => (await import("./get_bucket_policy.ts")).getBucketPolicy),
  GetBucketPolicyStatus: lazy(async () =>
    (await import("./get_bucket_policy_status.ts")).getBucketPolicyStatus
  ),
  GetBucketTagging: lazy(async () => (await import("./get_bucket_tagging.ts")).getBucketTagging),
  GetBucketVersioning: lazy(async () =>
    (await import("./get_bucket_versioning.ts")).getBucketVersioning
  ),
  GetObject: lazy(async () => (await import("./get_object.ts")).getObject),
  GetObjectAcl: lazy(async () => (await import("./get_object_acl.ts")).getObjectAcl),
  GetObjectAttributes: lazy(async () =>
    (await import("./get_object_attributes.ts")).getObjectAttributes
  ),
  GetObjectTagging: lazy(async () => (await import("./get_object_tagging.ts")).getObjectTagging),
  HeadBucket: lazy(async () => (await import("./head_bucket.ts")).headBucket),
  HeadObject: lazy(async () => (await import("./head_object.ts")).headObject),
  ListBuckets: lazy(async () => (await import("./list_buckets.ts")).listBuckets),
  ListMultipartUploads: lazy(async () =>
    (await import("./list_multipart_uploads.ts")).listMultipartUploads
  ),
  ListObjects: lazy(async () => (await import("./list_objects.ts")).listObjects),
  ListObjectsV2: lazy(async () => (await import("./list_objects_v2.ts")).listObjectsV2),
  ListObjectVersions: lazy(async () =>
    (await import("./list_object_versions.ts")).listObjectVersions
  ),
  ListParts: lazy(async () => (await import("./list_parts.ts")).listParts),
  OptionsObject: lazy(async () => (await import("./options_object.ts")).optionsObject),
  PostObject: lazy(async () => (await import("./post_object.ts")).postObject),
  PutBucketCors: lazy(async () => (await import("./put_bucket_cors.ts")).putBucketCors),
  PutBucketPolicy: lazy(async () => (await import("./put_bucket_policy.ts")).putBucketPolicy),
  PutBucketTagging: lazy(async () => (await import("./put_bucket_tagging.ts")).putBucketTagging),
  PutObject: lazy(async () => (await import("./put_object.ts")).putObject),
  PutObjectTagging: lazy(async () => (await import("./put_object_tagging.ts")).putObjectTagging),
  UploadPart: lazy(async () => (await import("./upload_part.ts")).uploadPart),
  UploadPartCopy: lazy(async () => (await import("./upload_part_copy.ts")).uploadPartCopy),
};
