/** Bucket and key name rules (AWS "Bucket naming rules", "Object key naming"). */
import {
  BUCKET_NAME_LENGTH_MAX,
  BUCKET_NAME_LENGTH_MIN,
  KEY_LENGTH_BYTES_MAX,
} from "../config/limits.ts";
import { S3Error } from "./errors.ts";

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/**
 * The rules for new buckets: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or
 * digit, no "..", not an IP address, none of AWS's reserved prefixes and suffixes.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < BUCKET_NAME_LENGTH_MIN || name.length > BUCKET_NAME_LENGTH_MAX) {
    return `Bucket names must be between ${BUCKET_NAME_LENGTH_MIN} and ${BUCKET_NAME_LENGTH_MAX} characters long`;
  }
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return "Bucket names may hold only lower-case letters, digits, dots and hyphens, and must begin and end with a letter or digit";
  }
  if (name.includes("..")) return "Bucket names must not contain two adjacent periods";
  if (name.includes(".-") || name.includes("-.")) {
    return "Bucket names must not contain a period next to a hyphen";
  }
  if (IPV4.test(name)) return "Bucket names must not be formatted as an IP address";
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
    return "Bucket names must not start with a reserved prefix";
  }
  if (RESERVED_SUFFIXES.some((s) => name.endsWith(s))) {
    return "Bucket names must not end with a reserved suffix";
  }
  return undefined;
}

/** Throws InvalidBucketName when `name` breaks the rules. */
export function checkBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem !== undefined) {
    throw new S3Error("InvalidBucketName", { message: problem, bucket: name });
  }
}

/** Throws KeyTooLongError beyond 1,024 bytes of UTF-8; empty keys are not objects. */
export function checkObjectKey(key: string): void {
  if (new TextEncoder().encode(key).byteLength > KEY_LENGTH_BYTES_MAX) {
    throw new S3Error("KeyTooLongError");
  }
}
