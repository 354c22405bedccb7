/**
 * AWS Signature Version 4 for S3: the Authorization header and presigned (query) URLs.
 *
 * How this works
 * - The client builds a canonical request (method, path, sorted query, the headers it chose to
 *   sign, and the payload hash it declares in x-amz-content-sha256), hashes it, and signs
 *   "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hash>" with a key derived from its secret, the day, the
 *   region and the service. We rebuild the same string from what arrived and compare in constant
 *   time.
 * - The payload itself is not checked here: the result says how the body is protected
 *   (`payload`) and the S3 layer wraps the body with `verifySha256Payload` or `decodeAwsChunked`.
 * - Checks run in this order so that the error a client sees is the one it can act on: the
 *   mechanism and its syntax, the credential scope, the date, the access key, the signature, and
 *   only then the clock skew and the session token (a skew error is reported for a request whose
 *   signature was right, as AWS does).
 *
 * Errors follow AWS's codes and wording (sig-v4-header-based-auth.html, sigv4-query-string-auth.html,
 * and the S3 error list); where AWS is silent we follow MinIO.
 */
import { CLOCK_SKEW_MS_MAX, PRESIGN_EXPIRY_SECONDS_MAX } from "../config/limits.ts";
import { canonicalRequest, stringToSign } from "./_canonical.ts";
import { checkSessionToken, lookupCredentials } from "./_credentials.ts";
import { isSigV2Header, verifySigV2Header, verifySigV2Presigned } from "./sigv2.ts";
import {
  ALGORITHM,
  constantTimeEqual,
  deriveSigningKey,
  formatAmzDate,
  hmacHex,
  isSha256Hex,
  parseAmzDate,
  parseQuery,
  type QueryParam,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
} from "./_crypto.ts";
import {
  type AuthOptions,
  type AuthResult,
  type Credentials,
  type PayloadMode,
  type SignableRequest,
  SigV4Error,
} from "./types.ts";

/** AWS's answer to SigV4a, and to SigV2 POST policies (SigV2 requests are verified by sigv2.ts). */
export const UNSUPPORTED_MECHANISM =
  "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";
const HEADER_MALFORMED = "The authorization header is malformed;";
const QUERY_PARAMS_REQUIRED =
  "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, " +
  "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
const BAD_CONTENT_SHA256 =
  "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, " +
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid " +
  "sha256 value.";

/**
 * Authenticates one request. Returns `{kind: "anonymous"}` when it carries no authentication at
 * all; throws `SigV4Error` with AWS's code when it carries some that does not verify.
 */
export async function authenticateRequest(
  req: SignableRequest,
  opts: AuthOptions,
): Promise<AuthResult> {
  const query = parseQuery(req.rawQuery);
  const names = new Set(query.map((p) => p.name));
  const presigned = names.has("X-Amz-Algorithm") || names.has("X-Amz-Credential") ||
    names.has("X-Amz-Signature");
  const presignedV2 = names.has("AWSAccessKeyId") && names.has("Signature");
  const authorization = req.headers.get("authorization");

  if (authorization !== null) {
    if (presigned || presignedV2) {
      throw new SigV4Error(
        "InvalidArgument",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature " +
          "query string parameter or the Authorization header should be specified",
      );
    }
    if (isSigV2Header(authorization)) return await verifySigV2Header(req, authorization, opts);
    return await verifyHeaderAuth(req, query, authorization, opts);
  }
  if (presigned) return await verifyPresigned(req, query, opts);
  // Unlike AWS: SigV2 is accepted, as MinIO accepts it (AWS refuses it in regions opened since
  // 2014); boto3's default presigner and older tools still sign that way.
  if (presignedV2) return await verifySigV2Presigned(req, opts);
  return { kind: "anonymous" };
}

export { checkSessionToken, lookupCredentials };

export interface Scope {
  accessKey: string;
  date: string;
  region: string;
  /** "s3", or "sts" where AuthOptions.services allows it. */
  service: string;
  /** date/region/service/aws4_request */
  scope: string;
}

/**
 * Parses `AK/yyyyMMdd/region/s3/aws4_request`. The access key is everything before the last four
 * parts, so a key with a `/` in it still parses.
 */
export function parseCredential(
  value: string,
  opts: AuthOptions,
  fail: (message: string, details?: Record<string, string>) => SigV4Error,
): Scope {
  const parts = value.split("/");
  if (parts.length < 5) {
    throw fail(
      'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  const [date, region, service, terminal] = parts.slice(-4) as [string, string, string, string];
  const accessKey = parts.slice(0, -4).join("/");
  if (accessKey === "") throw fail("the Credential is mal-formed; the access key is empty.");
  if (!/^\d{8}$/.test(date)) throw fail(`invalid credential date "${date}".`);
  if (region !== opts.region) {
    throw fail(`the region '${region}' is wrong; expecting '${opts.region}'`, {
      Region: opts.region,
    });
  }
  if (!(opts.services ?? ["s3"]).includes(service)) {
    throw fail(`incorrect service '${service}'. This endpoint belongs to 's3'.`);
  }
  if (terminal !== "aws4_request") {
    throw fail(`incorrect terminal '${terminal}'. This endpoint uses 'aws4_request'.`);
  }
  return { accessKey, date, region, service, scope: `${date}/${region}/${service}/aws4_request` };
}

function parseSignedHeaders(value: string, fail: (m: string) => SigV4Error): string[] {
  const names = value.split(";");
  for (const n of names) {
    if (n === "" || n !== n.toLowerCase() || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(n)) {
      throw fail(`the SignedHeaders list is mal-formed: "${value}".`);
    }
  }
  if (!names.includes("host")) {
    throw new SigV4Error(
      "AccessDenied",
      "There were headers present in the request which were not signed",
      { HeadersNotSigned: "host" },
    );
  }
  return names;
}

/** Maps x-amz-content-sha256 to how the body is protected. */
export function parsePayloadMode(value: string): PayloadMode {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { type: "unsigned" };
    case STREAMING_SIGNED:
      return { type: "streaming-signed", trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { type: "streaming-signed", trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { type: "streaming-unsigned-trailer" };
    case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD":
    case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
      // SigV4a (asymmetric, multi-region) chunk signatures: clients only send these when asked to.
      throw new SigV4Error("NotImplemented", "SigV4a (ECDSA) chunk signatures are not supported");
  }
  if (isSha256Hex(value)) return { type: "sha256", hex: value.toLowerCase() };
  throw new SigV4Error("InvalidArgument", BAD_CONTENT_SHA256, {
    ArgumentName: "x-amz-content-sha256",
    ArgumentValue: value,
  });
}

function checkSignature(expected: string, provided: string): void {
  if (!constantTimeEqual(expected, provided.toLowerCase())) {
    throw new SigV4Error(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. " +
        "Check your key and signing method.",
    );
  }
}

/** The request time: x-amz-date, else the Date header (RFC 7231), as AWS accepts either. */
function requestTime(headers: Headers): { date: Date; amzDate: string } {
  const missing = () =>
    new SigV4Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  const amz = headers.get("x-amz-date");
  if (amz !== null) {
    const date = parseAmzDate(amz.trim());
    if (date === undefined) throw missing();
    return { date, amzDate: amz.trim() };
  }
  const http = headers.get("date");
  if (http === null) throw missing();
  const t = Date.parse(http);
  if (Number.isNaN(t) || !/GMT|UTC|[+-]\d{4}/.test(http)) throw missing();
  const date = new Date(t);
  return { date, amzDate: formatAmzDate(date) };
}

async function verifyHeaderAuth(
  req: SignableRequest,
  query: QueryParam[],
  authorization: string,
  opts: AuthOptions,
): Promise<AuthResult> {
  const header = authorization.trim();
  const space = header.indexOf(" ");
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme !== ALGORITHM) {
    if (scheme.startsWith("AWS4-")) {
      // SigV4a: what AWS says in regions that only take SigV4.
      throw new SigV4Error("InvalidRequest", UNSUPPORTED_MECHANISM);
    }
    throw new SigV4Error("InvalidArgument", "Unsupported Authorization Type", {
      ArgumentName: "Authorization",
      ArgumentValue: authorization.slice(0, 64),
    });
  }
  const fail = (message: string, details?: Record<string, string>) =>
    new SigV4Error("AuthorizationHeaderMalformed", `${HEADER_MALFORMED} ${message}`, details);

  const fields = new Map<string, string>();
  for (const raw of header.slice(space + 1).split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0 || fields.has(key)) throw fail(`"${part.slice(0, 64)}" is not a valid component.`);
    fields.set(key, part.slice(eq + 1));
  }
  const credential = fields.get("Credential");
  const signedHeadersValue = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (credential === undefined || signedHeadersValue === undefined || signature === undefined) {
    throw fail(
      "the authorization header requires three components: Credential, SignedHeaders, and Signature.",
    );
  }
  const scope = parseCredential(credential, opts, fail);
  const signedHeaders = parseSignedHeaders(signedHeadersValue, fail);

  const contentSha256 = req.headers.get("x-amz-content-sha256");
  if (contentSha256 === null) {
    // AWS refuses this; MinIO reads it as the hash of an empty body. We side with AWS: a client that
    // forgot the header gets told so, rather than a payload mismatch later.
    throw new SigV4Error(
      "InvalidRequest",
      "Missing required header for this request: x-amz-content-sha256",
    );
  }
  const payload = parsePayloadMode(contentSha256.trim());
  if (!signedHeaders.includes("x-amz-content-sha256")) {
    // Unsigned, it could be swapped for UNSIGNED-PAYLOAD along with the body.
    throw new SigV4Error(
      "InvalidRequest",
      "header 'x-amz-content-sha256' must be included in signature",
    );
  }

  const { date, amzDate } = requestTime(req.headers);
  if (amzDate.slice(0, 8) !== scope.date) {
    throw fail(`Invalid credential date. Date is not the same as X-Amz-Date: "${scope.date}".`);
  }

  const creds = await lookupCredentials(scope.accessKey, opts);
  const signingKey = deriveSigningKey(creds.secretKey, scope.date, scope.region, scope.service);
  const canonical = canonicalRequest({
    method: req.method,
    rawPath: req.rawPath,
    query,
    headers: req.headers,
    signedHeaders,
    payloadHash: contentSha256.trim(),
    presigned: false,
  });
  const expected = hmacHex(signingKey, stringToSign(amzDate, scope.scope, canonical));
  checkSignature(expected, signature);

  if (Math.abs(opts.now.getTime() - date.getTime()) > CLOCK_SKEW_MS_MAX) {
    throw new SigV4Error(
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.",
      { RequestTime: amzDate, ServerTime: formatAmzDate(opts.now) },
    );
  }
  checkSessionToken(creds, req.headers.get("x-amz-security-token") ?? undefined, opts.now);

  return signedResult({ scope, creds, payload, presigned: false, signature, signingKey, amzDate });
}

async function verifyPresigned(
  req: SignableRequest,
  query: QueryParam[],
  opts: AuthOptions,
): Promise<AuthResult> {
  const fail = (message: string, details?: Record<string, string>) =>
    new SigV4Error("AuthorizationQueryParametersError", message, details);
  const params = new Map<string, string>();
  for (const p of query) {
    if (p.name.startsWith("X-Amz-")) {
      if (params.has(p.name)) throw fail(`The parameter ${p.name} was given more than once.`);
      params.set(p.name, p.value);
    }
  }
  const algorithm = params.get("X-Amz-Algorithm");
  const credential = params.get("X-Amz-Credential");
  const amzDate = params.get("X-Amz-Date");
  const expires = params.get("X-Amz-Expires");
  const signedHeadersValue = params.get("X-Amz-SignedHeaders");
  const signature = params.get("X-Amz-Signature");
  if (
    algorithm === undefined || credential === undefined || amzDate === undefined ||
    expires === undefined || signedHeadersValue === undefined || signature === undefined
  ) {
    throw fail(QUERY_PARAMS_REQUIRED);
  }
  if (algorithm !== ALGORITHM) {
    if (algorithm.startsWith("AWS4-")) {
      throw new SigV4Error("InvalidRequest", UNSUPPORTED_MECHANISM);
    }
    throw fail('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const scope = parseCredential(
    credential,
    opts,
    (m, d) => fail(`Error parsing the X-Amz-Credential parameter; ${m}`, d),
  );
  const date = parseAmzDate(amzDate);
  if (date === undefined) {
    throw fail(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  if (amzDate.slice(0, 8) !== scope.date) {
    throw fail(
      "Error parsing the X-Amz-Credential parameter; Invalid credential date. " +
        "Date is not the same as X-Amz-Date.",
    );
  }
  if (!/^\d{1,10}$/.test(expires)) throw fail("X-Amz-Expires should be a number");
  const expirySeconds = Number(expires);
  if (expirySeconds < 1) throw fail("X-Amz-Expires must be at least 1 second");
  if (expirySeconds > PRESIGN_EXPIRY_SECONDS_MAX) {
    throw fail(
      `X-Amz-Expires must be less than a week (in seconds) that is ${PRESIGN_EXPIRY_SECONDS_MAX}`,
    );
  }
  const signedHeaders = parseSignedHeaders(
    signedHeadersValue,
    (m) => fail(`Error parsing the X-Amz-SignedHeaders parameter; ${m}`),
  );
  // The holder of a presigned URL is not its signer: any x-amz-* header it adds (ACL, tagging,
  // metadata, SSE, copy source...) must have been signed, or AWS refuses the request. Only
  // x-amz-content-sha256 is tolerated unsigned (it is then ignored).
  const unsigned: string[] = [];
  for (const [name] of req.headers) {
    if (
      name.startsWith("x-amz-") && name !== "x-amz-content-sha256" && !signedHeaders.includes(name)
    ) {
      unsigned.push(name);
    }
  }
  if (unsigned.length > 0) {
    throw new SigV4Error(
      "AccessDenied",
      "There were headers present in the request which were not signed",
      { HeadersNotSigned: unsigned.join(", ") },
    );
  }

  // The payload hash: a signed query parameter, else a signed header, else UNSIGNED-PAYLOAD
  // (MinIO's rule; AWS documents only UNSIGNED-PAYLOAD for presigned URLs).
  let payloadHash = params.get("X-Amz-Content-Sha256");
  if (payloadHash === undefined && signedHeaders.includes("x-amz-content-sha256")) {
    payloadHash = req.headers.get("x-amz-content-sha256")?.trim();
  }
  payloadHash ??= UNSIGNED_PAYLOAD;
  const payload = parsePayloadMode(payloadHash);

  const creds = await lookupCredentials(scope.accessKey, opts);
  const signingKey = deriveSigningKey(creds.secretKey, scope.date, scope.region, scope.service);
  const canonical = canonicalRequest({
    method: req.method,
    rawPath: req.rawPath,
    query,
    headers: req.headers,
    signedHeaders,
    payloadHash,
    presigned: true,
  });
  const expected = hmacHex(signingKey, stringToSign(amzDate, scope.scope, canonical));
  checkSignature(expected, signature);

  const now = opts.now.getTime();
  if (date.getTime() - now > CLOCK_SKEW_MS_MAX) {
    throw new SigV4Error("AccessDenied", "Request is not valid yet");
  }
  if (now > date.getTime() + expirySeconds * 1000) {
    throw new SigV4Error("AccessDenied", "Request has expired", {
      "X-Amz-Expires": expires,
      Expires: new Date(date.getTime() + expirySeconds * 1000).toISOString(),
      ServerTime: opts.now.toISOString(),
    });
  }
  checkSessionToken(
    creds,
    params.get("X-Amz-Security-Token") ?? req.headers.get("x-amz-security-token") ?? undefined,
    opts.now,
  );

  return signedResult({ scope, creds, payload, presigned: true, signature, signingKey, amzDate });
}

/** The outcome of a verified signature; streaming-signed payloads carry the chunk chain's seed. */
function signedResult(o: {
  scope: Scope;
  creds: Credentials;
  payload: PayloadMode;
  presigned: boolean;
  signature: string;
  signingKey: Uint8Array;
  amzDate: string;
}): AuthResult {
  const result: AuthResult = {
    kind: "signed",
    accessKey: o.scope.accessKey,
    credentials: o.creds,
    payload: o.payload,
    presigned: o.presigned,
  };
  if (o.payload.type === "streaming-signed") {
    result.chunkContext = {
      seedSignature: o.signature.toLowerCase(),
      signingKey: o.signingKey,
      scope: o.scope.scope,
      amzDate: o.amzDate,
    };
  }
  return result;
}
