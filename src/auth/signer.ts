/**
 * SigV4 signing of a request in header mode, as the AWS SDKs do it: for Shale's own clients
 * (`shale admin`) and, through testing.ts, the tests' hand signers. It shares the canonical
 * request code with the verifier; `testing_test.ts` checks it against the AWS SDK's own signer
 * (@smithy/signature-v4) so that a mistake there cannot hide in both.
 */
import { canonicalRequest, stringToSign } from "./_canonical.ts";
import {
  ALGORITHM,
  deriveSigningKey,
  EMPTY_SHA256,
  formatAmzDate,
  hmacHex,
  parseQuery,
  uriEncode,
} from "./_crypto.ts";
import type { ChunkSigningContext, SignableRequest } from "./types.ts";

export interface SignOptions {
  accessKey: string;
  secretKey: string;
  region: string;
  sessionToken?: string;
  /** Signing time (default: now). */
  date?: Date;
  /** x-amz-content-sha256 (default: the SHA-256 of the empty body). */
  payloadHash?: string;
  /**
   * Headers to sign (lower case). Default: every header present except those clients never sign
   * (authorization, user-agent, content-length of a streamed body is still signed if present).
   */
  signedHeaders?: string[];
}

const NEVER_SIGNED = new Set(["authorization", "user-agent", "expect", "x-amzn-trace-id"]);

function defaultSignedHeaders(headers: Headers): string[] {
  const names: string[] = [];
  for (const [name] of headers) if (!NEVER_SIGNED.has(name)) names.push(name);
  return names.sort();
}

/** The credential scope of a day and region: `<yyyymmdd>/<region>/s3/aws4_request`. */
export function scopeOf(date: Date, region: string): string {
  return `${formatAmzDate(date).slice(0, 8)}/${region}/s3/aws4_request`;
}

/** A query string from parameters, each name and value percent-encoded as SigV4 wants. */
export function encodeQuery(params: Record<string, string>): string {
  return Object.entries(params).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
}

/** A signed request (header mode): the input's headers plus x-amz-date, x-amz-content-sha256,
 * x-amz-security-token and Authorization. `signature` is also the seed of a chunked body. */
export function signRequest(
  req: SignableRequest,
  opts: SignOptions,
): SignableRequest & { signature: string; chunkContext: ChunkSigningContext } {
  const date = opts.date ?? new Date();
  const amzDate = formatAmzDate(date);
  const headers = new Headers(req.headers);
  headers.delete("authorization");
  if (!headers.has("x-amz-date")) headers.set("x-amz-date", amzDate);
  headers.set("x-amz-content-sha256", opts.payloadHash ?? EMPTY_SHA256);
  if (opts.sessionToken !== undefined) headers.set("x-amz-security-token", opts.sessionToken);
  const signedHeaders = opts.signedHeaders ?? defaultSignedHeaders(headers);
  const scope = scopeOf(date, opts.region);
  const key = deriveSigningKey(opts.secretKey, amzDate.slice(0, 8), opts.region);
  const canonical = canonicalRequest({
    method: req.method,
    rawPath: req.rawPath,
    query: parseQuery(req.rawQuery),
    headers,
    signedHeaders,
    payloadHash: headers.get("x-amz-content-sha256")!,
    presigned: false,
  });
  const signature = hmacHex(key, stringToSign(amzDate, scope, canonical));
  headers.set(
    "authorization",
    `${ALGORITHM} Credential=${opts.accessKey}/${scope}, SignedHeaders=${
      signedHeaders.join(";")
    }, Signature=${signature}`,
  );
  return {
    method: req.method,
    rawPath: req.rawPath,
    rawQuery: req.rawQuery,
    headers,
    signature,
    chunkContext: { seedSignature: signature, signingKey: key, scope, amzDate },
  };
}
