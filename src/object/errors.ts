/**
 * Errors the object layer throws. The S3 boundary translates each to one AWS error code; anything
 * else becomes InternalError.
 */
export class ObjectLayerError extends Error {
  constructor(message: string, readonly bucket?: string, readonly key?: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class BucketNotFound extends ObjectLayerError {}
export class BucketExists extends ObjectLayerError {}
export class BucketNotEmpty extends ObjectLayerError {}
export class ObjectNotFound extends ObjectLayerError {}
export class UploadNotFound extends ObjectLayerError {}
/** A part named in CompleteMultipartUpload is missing or its ETag differs. */
export class InvalidPart extends ObjectLayerError {}
/** Parts in CompleteMultipartUpload are not in ascending order. */
export class InvalidPartOrder extends ObjectLayerError {}
/** A part other than the last is below PART_SIZE_BYTES_MIN. */
export class PartTooSmall extends ObjectLayerError {}
/** The body was shorter or longer than the declared size. */
export class IncompleteBody extends ObjectLayerError {}
/** The object is larger than allowed. */
export class EntityTooLarge extends ObjectLayerError {}
/** A conditional write (If-Match / If-None-Match) failed. */
export class PreconditionFailed extends ObjectLayerError {}
/** Too few drives answered to read or write safely. */
export class QuorumLost extends ObjectLayerError {}
/** Data failed its checksum and could not be reconstructed. */
export class BitrotDetected extends ObjectLayerError {}
/** A conditional write lost a race with another write to the same key. */
export class ConflictingWrite extends ObjectLayerError {}
/** Shale cannot start on these drives; the message says which drive and why. Nothing changed. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}
