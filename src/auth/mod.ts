/** The auth layer's public API: SigV4 verification, body checks, aws-chunked, POST policy. */
export * from "./types.ts";
export { authenticateRequest, parsePayloadMode } from "./sigv4.ts";
export { verifySha256Payload } from "./payload.ts";
export { encodeQuery, type SignOptions, signRequest } from "./signer.ts";
export {
  decodeAwsChunked,
  type DecodeAwsChunkedOptions,
  type DecodedAwsChunked,
} from "./chunked.ts";
export { type PostPolicyOptions, type PostPolicyResult, verifyPostPolicy } from "./post_policy.ts";
export {
  boundaryOf,
  type ParsedPostForm,
  parseMultipartForm,
  type ParseMultipartOptions,
} from "./multipart.ts";
