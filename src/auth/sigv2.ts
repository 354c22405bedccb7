/**
 * AWS Signature Version 2 for S3: `Authorization: AWS <AccessKeyId>:<Signature>` and presigned
 * `?AWSAccessKeyId=..&Expires=..&Signature=..` URLs, accepted as MinIO accepts them.
 *
 * How this works (AWS RESTAuthentication.html)
 * - Signature = Base64(HMAC-SHA1(secret, StringToSign)), where StringToSign is
 *   `VERB\nContent-MD5\nContent-Type\nDate\n` + CanonicalizedAmzHeaders + CanonicalizedResource.
 *   Presigned URLs put Expires (epoch seconds) on the Date line. With x-amz-date the Date line is
 *   empty and x-amz-date is signed among the amz headers.
 * - CanonicalizedAmzHeaders: every `x-amz-*` header, lower-cased, sorted, values trimmed, repeated
 *   headers comma-joined, one `name:value\n` each.
 * - CanonicalizedResource: `/bucket` when the Host header named the bucket, then the path exactly
 *   as sent (still percent-encoded), then the sub-resources of SUB_RESOURCES present in the query,
 *   sorted by name, with their values decoded (AWS: "When signing, you do not encode these
 *   values"; botocore and MinIO decode them too).
 * - The payload is not signed: the result says `{type: "unsigned"}` (a Content-MD5, if sent, is
 *   checked by the S3 layer).
 * - Checks run as in sigv4.ts: syntax, the access key, the signature, then the time (the clock
 *   skew or the expiry is reported only for a request whose signature was right), then the token.
 *
 * Other spellings of the same request are tried when the first does not match, because the wire,
 * the documentation and the clients leave room for them:
 * - botocore signs a path-style request for a bucket alone (`/bucket?prefix=..`) as `/bucket/`.
 * - `Headers` joins a repeated header with ", " while SigV2 joins with "," (AWS's Upload example);
 *   when an amz header value holds ", " the comma-only spelling is tried too.
 * - AWS's Delete example signs x-amz-date's value on the Date line and leaves it out of the amz
 *   headers; the text above it (and boto 2) sign an empty Date line and x-amz-date among them;
 *   MinIO signs the Date header's value on the Date line and x-amz-date among them.
 */
import { createHmac } from "node:crypto";
import { CLOCK_SKEW_MS_MAX } from "../config/limits.ts";
import { checkSessionToken, lookupCredentials } from "./_credentials.ts";
import { constantTimeEqual, parseAmzDate, percentDecode } from "./_crypto.ts";
import { type AuthOptions, type AuthResult, type SignableRequest, SigV4Error } from "./types.ts";

/**
 * Query parameters that are part of the CanonicalizedResource: AWS's list
 * (RESTAuthentication.html), plus those botocore's HmacV1Auth and MinIO's resourceList sign
 * (cors, delete, tagging, restore, select, object lock, bucket configurations). Sorted.
 */
export const SUB_RESOURCES: ReadonlySet<string> = new Set([
  "accelerate",
  "acl",
  "analytics",
  "cors",
  "delete",
  "encryption",
  "inventory",
  "legal-hold",
  "lifecycle",
  "location",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "partNumber",
  "policy",
  "replication",
  "requestPayment",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
  "restore",
  "retention",
  "select",
  "select-type",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
]);

const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. " +
  "Check your key and signing method.";
const QUERY_PARAMS_REQUIRED =
  "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters";

const decoder = new TextDecoder();

function decode(raw: string): string {
  return decoder.decode(percentDecode(raw, true));
}

/** True for a SigV2 Authorization header (`AWS <AccessKeyId>:<Signature>`). */
export function isSigV2Header(authorization: string): boolean {
  return /^AWS\s/.test(authorization.trim());
}

/** The parts StringToSign is built from, before the amz headers are spelled out. */
export interface StringToSignV2Parts {
  method: string;
  contentMd5: string;
  contentType: string;
  /** The Date line: the Date header, x-amz-date's value (alternative spelling), or Expires. */
  date: string;
  /** Lower-cased `x-amz-*` names to their (trimmed) values. */
  amzHeaders: Map<string, string>;
  /** CanonicalizedResource. */
  resource: string;
}

/** Builds StringToSign exactly as AWS RESTAuthentication.html describes it. */
export function stringToSignV2(parts: StringToSignV2Parts): string {
  let amz = "";
  for (const name of [...parts.amzHeaders.keys()].sort()) {
    amz += `${name}:${parts.amzHeaders.get(name)}\n`;
  }
  return `${parts.method}\n${parts.contentMd5}\n${parts.contentType}\n${parts.date}\n${amz}` +
    parts.resource;
}

/** Base64(HMAC-SHA1(secret, stringToSign)). */
export function signV2(secretKey: string, stringToSign: string): string {
  return createHmac("sha1", secretKey).update(stringToSign, "utf8").digest("base64");
}

/**
 * CanonicalizedResource: `/bucket` for virtual-hosted requests, the path as sent, and the signed
 * sub-resources sorted by name with decoded values (`name` alone when the value is empty).
 */
export function canonicalResourceV2(req: SignableRequest): string {
  let resource = req.virtualHostBucket !== undefined ? `/${req.virtualHostBucket}` : "";
  resource += req.rawPath === "" ? "/" : req.rawPath;
  const subs: { name: string; value: string }[] = [];
  if (req.rawQuery !== "") {
    for (const part of req.rawQuery.split("&")) {
      const eq = part.indexOf("=");
      const name = decode(eq < 0 ? part : part.slice(0, eq));
      if (!SUB_RESOURCES.has(name)) continue;
      subs.push({ name, value: eq < 0 ? "" : decode(part.slice(eq + 1)) });
    }
  }
  if (subs.length === 0) return resource;
  // Stable: a repeated name keeps the order it was sent in.
  subs.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return resource + "?" + subs.map((s) => s.value === "" ? s.name : `${s.name}=${s.value}`)
    .join("&");
}

function amzHeadersOf(headers: Headers): Map<string, string> {
  const amz = new Map<string, string>();
  for (const [name, value] of headers) {
    if (name.startsWith("x-amz-")) amz.set(name, value.trim());
  }
  return amz;
}

/**
 * The StringToSign candidates for one request, the documented spelling first (see "How this
 * works"): at most twelve, and only the first unless the request leaves room for another.
 */
function candidates(
  parts: StringToSignV2Parts,
  amzDate: string | undefined,
  date: string | undefined,
): string[] {
  const spellings = [parts];
  const bucketOnly = /^\/[^/?]+(?=\?|$)/.exec(parts.resource);
  if (bucketOnly !== null) {
    // botocore signs a path-style bucket request (`/bucket?prefix=..`) as `/bucket/`.
    spellings.push({
      ...parts,
      resource: `${bucketOnly[0]}/${parts.resource.slice(bucketOnly[0].length)}`,
    });
  }
  if (amzDate !== undefined) {
    for (const s of [...spellings]) {
      const amzHeaders = new Map(s.amzHeaders);
      amzHeaders.delete("x-amz-date");
      spellings.push({ ...s, date: amzDate, amzHeaders });
      // MinIO signs the Date header's value whether or not x-amz-date is there.
      if (date !== undefined) spellings.push({ ...s, date });
    }
  }
  const out = spellings.map(stringToSignV2);
  for (const s of spellings) {
    let changed = false;
    const joined = new Map<string, string>();
    for (const [name, value] of s.amzHeaders) {
      // x-amz-date's own ", " (an HTTP date) is never a join.
      const v = name === "x-amz-date" ? value : value.replaceAll(", ", ",");
      changed ||= v !== value;
      joined.set(name, v);
    }
    if (changed) out.push(stringToSignV2({ ...s, amzHeaders: joined }));
  }
  return out;
}

function checkSignature(secretKey: string, strings: string[], provided: string): void {
  // Each comparison is constant-time; which spelling matched is no secret, so the first match ends.
  if (!strings.some((s) => constantTimeEqual(signV2(secretKey, s), provided))) {
    // AWS's SigV2 error carries the StringToSign it computed, so a client can see what differs.
    throw new SigV4Error("SignatureDoesNotMatch", SIGNATURE_MISMATCH, {
      StringToSign: strings[0] ?? "",
    });
  }
}

/** An HTTP date (RFC 7231, RFC 850, asctime) or, as some clients send, an ISO 8601 basic stamp. */
function parseRequestDate(value: string): Date | undefined {
  const iso = parseAmzDate(value);
  if (iso !== undefined) return iso;
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/GMT|UTC|[+-]\d{4}/.test(value)) return undefined;
  return new Date(t);
}

/** Verifies `Authorization: AWS <AccessKeyId>:<Signature>`. */
export async function verifySigV2Header(
  req: SignableRequest,
  authorization: string,
  opts: AuthOptions,
): Promise<AuthResult> {
  const credential = authorization.trim().slice(3).trim();
  const colon = credential.lastIndexOf(":");
  const accessKey = colon < 0 ? "" : credential.slice(0, colon);
  const signature = colon < 0 ? "" : credential.slice(colon + 1);
  if (accessKey === "" || signature === "" || /\s/.test(credential)) {
    throw new SigV4Error(
      "InvalidArgument",
      "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
      { ArgumentName: "Authorization", ArgumentValue: authorization.slice(0, 64) },
    );
  }

  const amzDateRaw = req.headers.get("x-amz-date")?.trim();
  const dateRaw = req.headers.get("date")?.trim();
  const timeRaw = amzDateRaw ?? dateRaw;
  const time = timeRaw === undefined ? undefined : parseRequestDate(timeRaw);
  if (timeRaw === undefined || time === undefined) {
    throw new SigV4Error(
      "AccessDenied",
      "AWS authentication requires a valid Date or x-amz-date header",
    );
  }

  const creds = await lookupCredentials(accessKey, opts);
  const parts: StringToSignV2Parts = {
    method: req.method,
    contentMd5: req.headers.get("content-md5")?.trim() ?? "",
    contentType: req.headers.get("content-type")?.trim() ?? "",
    // With x-amz-date, AWS ignores the Date header and signs an empty Date line.
    date: amzDateRaw !== undefined ? "" : dateRaw ?? "",
    amzHeaders: amzHeadersOf(req.headers),
    resource: canonicalResourceV2(req),
  };
  checkSignature(creds.secretKey, candidates(parts, amzDateRaw, dateRaw), signature);

  if (Math.abs(opts.now.getTime() - time.getTime()) > CLOCK_SKEW_MS_MAX) {
    throw new SigV4Error(
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.",
      { RequestTime: timeRaw, ServerTime: opts.now.toUTCString() },
    );
  }
  checkSessionToken(creds, req.headers.get("x-amz-security-token") ?? undefined, opts.now);
  return {
    kind: "signed",
    accessKey,
    credentials: creds,
    payload: { type: "unsigned" },
    presigned: false,
  };
}

/**
 * Verifies `?AWSAccessKeyId=..&Expires=..&Signature=..`. As botocore's presigner puts them there,
 * `x-amz-*`, `content-type` and `content-md5` query parameters stand for the headers of those
 * names in StringToSign (x-amz-security-token included); the holder's own `x-amz-*` headers are
 * signed too, so none can be added to a presigned URL.
 */
export async function verifySigV2Presigned(
  req: SignableRequest,
  opts: AuthOptions,
): Promise<AuthResult> {
  const auth = new Map<string, string>();
  const fromQuery = new Map<string, string>();
  for (const part of req.rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decode(part.slice(eq + 1));
    if (name === "AWSAccessKeyId" || name === "Expires" || name === "Signature") {
      if (auth.has(name)) {
        throw new SigV4Error("InvalidArgument", `The parameter ${name} was given more than once.`, {
          ArgumentName: name,
        });
      }
      auth.set(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (lower.startsWith("x-amz-") || lower === "content-type" || lower === "content-md5") {
      fromQuery.set(lower, value.trim());
    }
  }
  const accessKey = auth.get("AWSAccessKeyId") ?? "";
  const expires = auth.get("Expires") ?? "";
  // Base64 has no spaces: a `+` left unencoded in the URL was read as one.
  const signature = (auth.get("Signature") ?? "").replaceAll(" ", "+");
  if (accessKey === "" || expires === "" || signature === "") {
    throw new SigV4Error("AccessDenied", QUERY_PARAMS_REQUIRED);
  }
  if (!/^\d{1,12}$/.test(expires)) {
    throw new SigV4Error("InvalidArgument", "Expires must be a number of seconds since the epoch", {
      ArgumentName: "Expires",
      ArgumentValue: expires.slice(0, 64),
    });
  }

  const creds = await lookupCredentials(accessKey, opts);
  const amzHeaders = amzHeadersOf(req.headers);
  for (const [name, value] of fromQuery) {
    if (name.startsWith("x-amz-")) amzHeaders.set(name, value);
  }
  const parts: StringToSignV2Parts = {
    method: req.method,
    contentMd5: fromQuery.get("content-md5") ?? req.headers.get("content-md5")?.trim() ?? "",
    contentType: fromQuery.get("content-type") ?? req.headers.get("content-type")?.trim() ?? "",
    date: expires,
    amzHeaders,
    resource: canonicalResourceV2(req),
  };
  checkSignature(creds.secretKey, candidates(parts, undefined, undefined), signature);

  const expiresMs = Number(expires) * 1000;
  if (opts.now.getTime() > expiresMs) {
    throw new SigV4Error("AccessDenied", "Request has expired", {
      Expires: new Date(expiresMs).toISOString(),
      ServerTime: opts.now.toISOString(),
    });
  }
  checkSessionToken(
    creds,
    fromQuery.get("x-amz-security-token") ?? req.headers.get("x-amz-security-token") ?? undefined,
    opts.now,
  );
  return {
    kind: "signed",
    accessKey,
    credentials: creds,
    payload: { type: "unsigned" },
    presigned: true,
  };
}
