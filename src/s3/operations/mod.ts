/** Every built operation, by its AWS name. */
import type { Operation } from "../context.ts";
import type { OperationName } from "../router.ts";
import { abortMultipartUpload } from "./abort_multipart_upload.ts";
import { assumeRole } from "./assume_role.ts";
import { completeMultipartUpload } from "./complete_multipart_upload.ts";
import { copyObject } from "./copy_object.ts";
import { createBucket } from "./create_bucket.ts";
import { createMultipartUpload } from "./create_multipart_upload.ts";
import { deleteBucket } from "./delete_bucket.ts";
import { deleteBucketPolicy } from "./delete_bucket_policy.ts";
import { deleteBucketEncryption } from "./delete_bucket_encryption.ts";
import { getBucketEncryption } from "./get_bucket_encryption.ts";
import { putBucketEncryption } from "./put_bucket_encryption.ts";
import { deleteBucketCors } from "./delete_bucket_cors.ts";
import { deleteBucketTagging } from "./delete_bucket_tagging.ts";
import { deleteObject } from "./delete_object.ts";
import { deleteObjects } from "./delete_objects.ts";
import { deleteObjectTagging } from "./delete_object_tagging.ts";
import { getBucketAcl } from "./get_bucket_acl.ts";
import { getBucketCors } from "./get_bucket_cors.ts";
import { getBucketPolicy } from "./get_bucket_policy.ts";
import { getBucketPolicyStatus } from "./get_bucket_policy_status.ts";
import { getBucketLocation } from "./get_bucket_location.ts";
import { getBucketTagging } from "./get_bucket_tagging.ts";
import { getBucketVersioning } from "./get_bucket_versioning.ts";
import { getObject } from "./get_object.ts";
import { getObjectAcl } from "./get_object_acl.ts";
import { getObjectAttributes } from "./get_object_attributes.ts";
import { getObjectTagging } from "./get_object_tagging.ts";
import { headBucket } from "./head_bucket.ts";
import { headObject } from "./head_object.ts";
import { listBuckets } from "./list_buckets.ts";
import { listMultipartUploads } from "./list_multipart_uploads.ts";
import { listObjects } from "./list_objects.ts";
import { listObjectsV2 } from "./list_objects_v2.ts";
import { listObjectVersions } from "./list_object_versions.ts";
import { listParts } from "./list_parts.ts";
import { optionsObject } from "./options_object.ts";
import { postObject } from "./post_object.ts";
import { putBucketCors } from "./put_bucket_cors.ts";
import { putBucketPolicy } from "./put_bucket_policy.ts";
import { putBucketTagging } from "./put_bucket_tagging.ts";
import { putObject } from "./put_object.ts";
import { putObjectTagging } from "./put_object_tagging.ts";
import { uploadPart } from "./upload_part.ts";
import { uploadPartCopy } from "./upload_part_copy.ts";

export const OPERATION_HANDLERS: Record<OperationName, Operation> = {
  AbortMultipartUpload: abortMultipartUpload,
  AssumeRole: assumeRole,
  CompleteMultipartUpload: completeMultipartUpload,
  CopyObject: copyObject,
  CreateBucket: createBucket,
  CreateMultipartUpload: createMultipartUpload,
  DeleteBucket: deleteBucket,
  DeleteBucketCors: deleteBucketCors,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketEncryption: getBucketEncryption,
  PutBucketEncryption: putBucketEncryption,
  DeleteBucketEncryption: deleteBucketEncryption,
  DeleteBucketTagging: deleteBucketTagging,
  DeleteObject: deleteObject,
  DeleteObjects: deleteObjects,
  DeleteObjectTagging: deleteObjectTagging,
  GetBucketAcl: getBucketAcl,
  GetBucketCors: getBucketCors,
  GetBucketLocation: getBucketLocation,
  GetBucketPolicy: getBucketPolicy,
  GetBucketPolicyStatus: getBucketPolicyStatus,
  GetBucketTagging: getBucketTagging,
  GetBucketVersioning: getBucketVersioning,
  GetObject: getObject,
  GetObjectAcl: getObjectAcl,
  GetObjectAttributes: getObjectAttributes,
  GetObjectTagging: getObjectTagging,
  HeadBucket: headBucket,
  HeadObject: headObject,
  ListBuckets: listBuckets,
  ListMultipartUploads: listMultipartUploads,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  ListParts: listParts,
  OptionsObject: optionsObject,
  PostObject: postObject,
  PutBucketCors: putBucketCors,
  PutBucketPolicy: putBucketPolicy,
  PutBucketTagging: putBucketTagging,
  PutObject: putObject,
  PutObjectTagging: putObjectTagging,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
};
