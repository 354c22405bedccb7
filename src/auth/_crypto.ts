/**
 * Hashing, HMAC and the S3 flavour of URI encoding shared by the verifier and the test signers.
 * node:crypto runs native code; WebCrypto would make every HMAC a promise, and a chunked upload
 * does one HMAC per 64 KiB.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { SIGNING_KEY_CACHE_ENTRIES_MAX } from "../config/limits.ts";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function hmac(key: Uint8Array | string, data: string): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

export function hmacHex(key: Uint8Array, data: string): string {
  return createHmac("sha256", key).update(data).digest("hex");
}

/**
 * HMAC-SHA256 with one key over many short messages (one per aws-chunked chunk): the key's inner
 * and outer pads are absorbed once and each message copies those states (RFC 2104), which costs
 * about half of a fresh createHmac in Deno.
 */
export class KeyedHmac {
  readonly #inner: ReturnType<typeof createHash>;
  readonly #outer: ReturnType<typeof createHash>;
  constructor(key: Uint8Array) {
    const block = new Uint8Array(64);
    block.set(key.length > 64 ? createHash("sha256").update(key).digest() : key);
    this.#inner = createHash("sha256").update(block.map((b) => b ^ 0x36));
    this.#outer = createHash("sha256").update(block.map((b) => b ^ 0x5c));
  }
  hex(message: string): string {
    const inner = this.#inner.copy().update(message).digest();
    return this.#outer.copy().update(inner).digest("hex");
  }
}

const signingKeys = new Map<string, Uint8Array>();

/**
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
 * Cached per secret, day and region: the key changes once a day, and four HMACs are most of what
 * verifying a request costs. The cache drops its oldest entry when full.
 */
export function deriveSigningKey(
  secret: string,
  date: string,
  region: string,
  service = "s3",
): Uint8Array {
  const id = `${date}\u0000${region}\u0000${service}\u0000${secret}`;
  const cached = signingKeys.get(id);
  if (cached !== undefined) return cached;
  const kDate = hmac("AWS4" + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const key = hmac(kService, "aws4_request");
  if (signingKeys.size >= SIGNING_KEY_CACHE_ENTRIES_MAX) {
    signingKeys.delete(signingKeys.keys().next().value!);
  }
  signingKeys.set(id, key);
  return key;
}

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.length !== y.length) {
    // Still spend the comparison so that a length probe learns nothing more than the length.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

const HEX = "0123456789ABCDEF";

function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes to bytes. A `%` not followed by two hex digits stays a literal `%` (it is then
 * encoded as %25), so that a stray percent sign cannot make verification throw. With
 * `plusIsSpace`, `+` means a space (query strings, as Go's url.ParseQuery and MinIO read them).
 */
export function percentDecode(s: string, plusIsSpace: boolean): Uint8Array {
  const raw = encoder.encode(s);
  if (raw.indexOf(0x25) < 0 && (!plusIsSpace || raw.indexOf(0x2b) < 0)) return raw;
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x25 && i + 2 < raw.length) {
      const hi = hexValue(raw[i + 1]!);
      const lo = hexValue(raw[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = plusIsSpace && c === 0x2b ? 0x20 : c;
  }
  return out.subarray(0, n);
}

/** AWS UriEncode over bytes: unreserved bytes stay, everything else becomes %XX (upper case). */
export function uriEncodeBytes(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    out += isUnreserved(c) ? String.fromCharCode(c) : "%" + HEX[c >> 4] + HEX[c & 15];
  }
  return out;
}

/** AWS UriEncode of a string (UTF-8), `/` included in the encoded set. */
export function uriEncode(s: string): string {
  return uriEncodeBytes(encoder.encode(s));
}

function isCanonicalSegment(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isUnreserved(s.charCodeAt(i))) return false;
  return true;
}

/**
 * The canonical URI of an S3 request from the path as it came on the wire: each segment is decoded
 * once and re-encoded with the unreserved set, so `!`, `'`, `(`, `)`, `*`, `+` and `%2F` verify
 * whether the client sent them raw or encoded. S3 does not normalise dot segments or double
 * slashes, and does not encode twice (unlike the other AWS services).
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === "") return "/";
  const segments = rawPath.split("/");
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (!isCanonicalSegment(s)) segments[i] = uriEncodeBytes(percentDecode(s, false));
  }
  const path = segments.join("/");
  return path.startsWith("/") ? path : "/" + path;
}

/** One query parameter, decoded. */
export interface QueryParam {
  name: string;
  value: string;
  /** The parameter's name and value re-encoded as the canonical query wants them. */
  encodedName: string;
  encodedValue: string;
}

const decoder = new TextDecoder();

/** Splits a raw query string into decoded parameters (`a` alone means `a=`). */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === "") return params;
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? "" : part.slice(eq + 1);
    const nameBytes = percentDecode(rawName, true);
    const valueBytes = percentDecode(rawValue, true);
    params.push({
      name: decoder.decode(nameBytes),
      value: decoder.decode(valueBytes),
      encodedName: uriEncodeBytes(nameBytes),
      encodedValue: uriEncodeBytes(valueBytes),
    });
  }
  return params;
}

/** Sorted by encoded name, then encoded value (byte order), joined with `&`. */
export function canonicalQuery(params: QueryParam[], exclude?: string): string {
  const kept = params.filter((p) => p.name !== exclude);
  kept.sort((a, b) =>
    a.encodedName < b.encodedName
      ? -1
      : a.encodedName > b.encodedName
      ? 1
      : a.encodedValue < b.encodedValue
      ? -1
      : a.encodedValue > b.encodedValue
      ? 1
      : 0
  );
  return kept.map((p) => `${p.encodedName}=${p.encodedValue}`).join("&");
}

/** Header values are trimmed and every run of spaces or tabs becomes one space. */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/[ \t]+/g, " ");
}

/** Parses `yyyyMMddTHHmmssZ`; undefined when it is not exactly that. */
export function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  // Reject 20130231T000000Z and friends rather than letting Date roll them over.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 60) {
    return undefined;
  }
  return date;
}

/** Formats a date as `yyyyMMddTHHmmssZ`. */
export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** Lower-case hex of exactly 64 characters (the form AWS prints signatures and digests in). */
export function isSha256Hex(s: string): boolean {
  return /^[0-9a-fA-F]{64}$/.test(s);
}
