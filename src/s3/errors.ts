/**
 * The one client-facing error type. `code` is a closed union of AWS error codes; ERROR_TABLE gives
 * each its HTTP status and AWS's own wording (clients match on both). Lower layers throw their own
 * small errors; `toS3Error` translates them at the boundary, and anything it does not know becomes
 * InternalError (logged with the request id by the dispatcher).
 */
import * as objectErrors from "../object/errors.ts";
import { SigV4Error } from "../auth/types.ts";
import { MalformedPolicy } from "../iam/policy.ts";

export const ERROR_TABLE = {
  AccessDenied: [403, "Access Denied."],
  AuthorizationHeaderMalformed: [400, "The authorization header that you provided is not valid."],
  AuthorizationQueryParametersError: [
    400,
    "Error parsing the X-Amz-Credential parameter; the query parameters are not valid.",
  ],
  BadDigest: [
    400,
    "The Content-MD5 or checksum value that you specified did not match what the server received.",
  ],
  BadRequest: [400, "Insufficient information. Origin request header needed."],
  BucketAlreadyExists: [
    409,
    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
  ],
  BucketAlreadyOwnedByYou: [
    409,
    "Your previous request to create the named bucket succeeded and you already own it.",
  ],
  BucketNotEmpty: [409, "The bucket you tried to delete is not empty"],
  ConditionalRequestConflict: [
    409,
    "A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.",
  ],
  CORSResponse: [403, "This CORS request is not allowed."],
  EntityTooLarge: [400, "Your proposed upload exceeds the maximum allowed size"],
  EntityTooSmall: [400, "Your proposed upload is smaller than the minimum allowed size"],
  ExpiredToken: [400, "The provided token has expired."],
  IllegalLocationConstraintException: [
    400,
    "The location constraint specified is incompatible with the region this request was sent to.",
  ],
  IncompleteBody: [
    400,
    "You did not provide the number of bytes specified by the Content-Length HTTP header.",
  ],
  InternalError: [500, "We encountered an internal error. Please try again."],
  InvalidAccessKeyId: [403, "The AWS access key ID you provided does not exist in our records."],
  InvalidArgument: [400, "Invalid Argument"],
  InvalidBucketName: [400, "The specified bucket is not valid."],
  InvalidDigest: [400, "The Content-MD5 or checksum value you specified is not valid."],
  InvalidEncryptionAlgorithmError: [
    400,
    "The encryption request you specified is not valid. The valid value is AES256.",
  ],
  InvalidLocationConstraint: [400, "The specified location constraint is not valid."],
  InvalidPart: [
    400,
    "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
  ],
  InvalidPartNumber: [416, "The requested partnumber is not satisfiable"],
  InvalidPartOrder: [
    400,
    "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
  ],
  InvalidRange: [416, "The requested range is not satisfiable"],
  InvalidRequest: [400, "Invalid Request"],
  InvalidStorageClass: [400, "The storage class you specified is not valid"],
  InvalidTag: [400, "The TagSet you provided is not valid."],
  InvalidTokenId: [403, "The security token included in the request is invalid"],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, "Your key is too long"],
  "KMS.NotFoundException": [400, "Invalid keyId"],
  MalformedPOSTRequest: [
    400,
    "The body of your POST request is not well-formed multipart/form-data.",
  ],
  MalformedPolicy: [400, "Policies must be valid JSON and the first byte must be '{'"],
  MalformedTrailerError: [400, "The request contained trailing data that was not well-formed."],
  MalformedXML: [
    400,
    "The XML you provided was not well-formed or did not validate against our published schema",
  ],
  MaxMessageLengthExceeded: [400, "Your request was too big."],
  MetadataTooLarge: [400, "Your metadata headers exceed the maximum allowed metadata size."],
  MethodNotAllowed: [405, "The specified method is not allowed against this resource."],
  MissingContentLength: [411, "You must provide the Content-Length HTTP header."],
  MissingRequestBodyError: [400, "Request Body is empty"],
  MissingSecurityHeader: [400, "Your request is missing a required header"],
  NoSuchBucket: [404, "The specified bucket does not exist"],
  NoSuchBucketPolicy: [404, "The bucket policy does not exist"],
  NoSuchCORSConfiguration: [404, "The CORS configuration does not exist"],
  NoSuchKey: [404, "The specified key does not exist."],
  NoSuchTagSet: [404, "The TagSet does not exist"],
  NoSuchUpload: [
    404,
    "The specified multipart upload does not exist. The upload ID might not be valid, or the multipart upload might have been aborted or completed.",
  ],
  NoSuchVersion: [404, "The specified version does not exist."],
  NotImplemented: [501, "A header you provided implies functionality that is not implemented."],
  NotModified: [304, "Not Modified"],
  PreconditionFailed: [412, "At least one of the pre-conditions you specified did not hold"],
  RequestHeaderSectionTooLarge: [
    400,
    "Your request header section exceeds the maximum allowed size.",
  ],
  RequestTimeTooSkewed: [
    403,
    "The difference between the request time and the server's time is too large.",
  ],
  ServerSideEncryptionConfigurationNotFoundError: [
    404,
    "The server side encryption configuration was not found",
  ],
  ServiceUnavailable: [503, "Please reduce your request rate."],
  SignatureDoesNotMatch: [
    403,
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  ],
  SlowDown: [503, "Please reduce your request rate."],
  XAmzContentSHA256Mismatch: [
    400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
  ],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof ERROR_TABLE;

export interface S3ErrorDetails {
  /** Replaces the table's message when the situation needs more words (as AWS does). */
  message?: string;
  bucket?: string;
  key?: string;
  /** Extra elements AWS adds to some errors (e.g. ArgumentName, Region, ExpectedDigest). */
  extra?: Record<string, string>;
  /** Extra response headers (e.g. Content-Range on InvalidRange). */
  headers?: Record<string, string>;
}

export class S3Error extends Error {
  override name = "S3Error";
  readonly status: number;
  constructor(readonly code: S3ErrorCode, readonly details: S3ErrorDetails = {}) {
    super(details.message ?? ERROR_TABLE[code][1]);
    this.status = ERROR_TABLE[code][0];
  }
}

/** Translates an error from any layer into an S3Error; undefined means "unexpected: log it". */
export function toS3Error(e: unknown): S3Error | undefined {
  if (e instanceof S3Error) return e;
  if (e instanceof SigV4Error) {
    const details: S3ErrorDetails = {};
    if (e.message) details.message = e.message;
    // Added to SigV4Error after the contract: extra XML elements such as Region.
    const extra = (e as { details?: Record<string, string> }).details;
    if (extra !== undefined && Object.keys(extra).length > 0) details.extra = { ...extra };
    return new S3Error(e.code, details);
  }
  // The policy language's validation error carries AWS's wording for the exact problem.
  if (e instanceof MalformedPolicy) return new S3Error("MalformedPolicy", { message: e.message });
  if (e instanceof objectErrors.ObjectLayerError) {
    const code = objectErrorCode(e);
    if (code === undefined) return undefined;
    const details: S3ErrorDetails = {};
    if (e.bucket !== undefined) details.bucket = e.bucket;
    if (e.key !== undefined) details.key = e.key;
    return new S3Error(code, details);
  }
  return undefined;
}

function objectErrorCode(e: objectErrors.ObjectLayerError): S3ErrorCode | undefined {
  if (e instanceof objectErrors.BucketNotFound) return "NoSuchBucket";
  if (e instanceof objectErrors.BucketExists) return "BucketAlreadyOwnedByYou";
  if (e instanceof objectErrors.BucketNotEmpty) return "BucketNotEmpty";
  if (e instanceof objectErrors.ObjectNotFound) return "NoSuchKey";
  if (e instanceof objectErrors.UploadNotFound) return "NoSuchUpload";
  if (e instanceof objectErrors.InvalidPart) return "InvalidPart";
  if (e instanceof objectErrors.InvalidPartOrder) return "InvalidPartOrder";
  if (e instanceof objectErrors.PartTooSmall) return "EntityTooSmall";
  if (e instanceof objectErrors.IncompleteBody) return "IncompleteBody";
  if (e instanceof objectErrors.EntityTooLarge) return "EntityTooLarge";
  if (e instanceof objectErrors.PreconditionFailed) return "PreconditionFailed";
  if (e instanceof objectErrors.ConflictingWrite) return "ConditionalRequestConflict";
  // MinIO answers a lost write quorum with 503 SlowDown: clients retry it.
  if (e instanceof objectErrors.QuorumLost) return "SlowDown";
  return undefined;
}
