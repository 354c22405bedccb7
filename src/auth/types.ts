/**
 * The auth layer's contract: pure functions over request parts, no HTTP server, no storage.
 * The S3 layer calls `authenticateRequest` first, then wraps the body according to `payload`.
 */

/** AWS error codes the auth layer can produce; the S3 boundary maps each to its HTTP status. */
export type AuthErrorCode =
  | "AccessDenied"
  | "AuthorizationHeaderMalformed"
  | "AuthorizationQueryParametersError"
  | "ExpiredToken"
  | "IncompleteBody"
  | "InvalidAccessKeyId"
  | "InvalidArgument"
  | "InvalidRequest"
  | "InvalidTokenId"
  | "MalformedPOSTRequest"
  | "MissingSecurityHeader"
  | "RequestTimeTooSkewed"
  | "SignatureDoesNotMatch"
  | "XAmzContentSHA256Mismatch"
  | "EntityTooLarge"
  | "EntityTooSmall"
  | "InvalidDigest"
  | "BadDigest"
  | "MalformedTrailerError"
  | "NotImplemented";

export class SigV4Error extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    /**
     * Extra elements AWS puts in the error XML beside Code and Message, such as `Region` (the
     * region the server expects) or `HeadersNotSigned`. Added after the contract was agreed;
     * optional, so existing callers are unchanged.
     */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "SigV4Error";
  }
}

export interface Credentials {
  accessKey: string;
  secretKey: string;
  /** Present for temporary (STS) credentials: the request must carry the same token. */
  sessionToken?: string;
  /**
   * When temporary credentials stop working: later requests get ExpiredToken. Added after the
   * contract was agreed; optional.
   */
  expiresAt?: Date;
}

/** The parts of an HTTP request that SigV4 signs, exactly as received. */
export interface SignableRequest {
  method: string;
  /** The path as sent on the wire, still percent-encoded (e.g. `/bucket/a%20b`). */
  rawPath: string;
  /** The query string as sent, without `?`, still percent-encoded. */
  rawQuery: string;
  headers: Headers;
  /**
   * The bucket when the Host header named it (virtual-hosted style, `bucket.<domain>/key`); absent
   * for path-style requests. SigV2 signs `/bucket` + path either way. Added after the contract was
   * agreed; optional, so existing callers are unchanged.
   */
  virtualHostBucket?: string;
}

export interface AuthOptions {
  region: string;
  /** Server time; tests pass a fixed clock. */
  now: Date;
  lookup: (accessKey: string) => Credentials | undefined | Promise<Credentials | undefined>;
  /** Services a credential scope may name (default `["s3"]`; STS calls at the S3 endpoint add
   *  "sts", which the AWS SDKs' STS clients sign with). */
  services?: readonly string[];
}

/** How the request body is protected, from x-amz-content-sha256. */
export type PayloadMode =
  | { type: "unsigned" } // UNSIGNED-PAYLOAD, presigned URLs
  | { type: "sha256"; hex: string } // hex SHA-256 of the body, checked at its end
  | { type: "streaming-signed"; trailer: boolean } // STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
  | { type: "streaming-unsigned-trailer" }; // STREAMING-UNSIGNED-PAYLOAD-TRAILER

/** State the chunk-signature chain starts from (the seed signature and the signing key). */
export interface ChunkSigningContext {
  seedSignature: string;
  signingKey: Uint8Array;
  /** yyyymmdd/region/s3/aws4_request */
  scope: string;
  /** ISO basic timestamp from x-amz-date. */
  amzDate: string;
}

export type AuthResult =
  | { kind: "anonymous" }
  | {
    kind: "signed";
    accessKey: string;
    credentials: Credentials;
    payload: PayloadMode;
    /** Present for streaming-signed payloads. */
    chunkContext?: ChunkSigningContext;
    /** True for presigned-URL (query) authentication. */
    presigned: boolean;
  };
