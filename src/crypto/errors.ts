/**
 * Errors of the crypto layer. `CryptoError` carries an AWS error code as data for the S3 boundary
 * to map (it never builds an S3Error itself); `DecryptionFailed` means bytes did not authenticate:
 * tampering, truncation, reordering, a sealed key moved to another object, or the wrong key.
 */

/** AWS (and AWS KMS) error codes the crypto layer can ask the S3 boundary to return. */
export type CryptoErrorCode =
  /** A malformed SSE-C algorithm, key or key MD5 (400, as AWS and MinIO). */
  | "InvalidArgument"
  /** Encryption parameters that do not fit the object or the request (400). */
  | "InvalidRequest"
  /** An SSE-C key that does not open the object's sealed key (403, as AWS). */
  | "AccessDenied"
  /** `x-amz-server-side-encryption` names no algorithm we know (400). */
  | "InvalidEncryptionAlgorithmError"
  /** The KMS has no key of that name (400, AWS KMS's code as S3 returns it). */
  | "KMS.NotFoundException"
  /** A KMS key of that name exists already (admin API). */
  | "KMS.AlreadyExistsException"
  /** A KMS limit was reached (admin API). */
  | "KMS.LimitExceededException";

export class CryptoError extends Error {
  override name = "CryptoError";
  constructor(readonly code: CryptoErrorCode, message: string) {
    super(message);
  }
}

/** Bytes failed authentication; nothing that failed is ever returned as plaintext. */
export class DecryptionFailed extends Error {
  override name = "DecryptionFailed";
}
