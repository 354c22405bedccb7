/**
 * Hand signers for tests: what real clients cannot be made to send (forged signatures, broken
 * chunk encodings, odd encodings of the path) is built here and sent with `fetch`. They share the
 * canonical request code with the verifier, and `testing_test.ts` checks them against the AWS
 * SDK's own signer so that a mistake there cannot hide in both.
 *
 * Not for production: nothing here checks its input.
 */
import { canonicalRequest, stringToSign } from "./_canonical.ts";
import {
  ALGORITHM,
  deriveSigningKey,
  EMPTY_SHA256,
  formatAmzDate,
  hmacHex,
  parseQuery,
  sha256Hex,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  uriEncode,
} from "./_crypto.ts";
import type { ChunkSigningContext, SignableRequest } from "./types.ts";
import { scopeOf, type SignOptions, signRequest } from "./signer.ts";
import { concatBytes } from "../util/bytes.ts";

export { EMPTY_SHA256, sha256Hex };

export interface TestCredentials {
  accessKey: string;
  secretKey: string;
  region: string;
  sessionToken?: string;
}

/** Options of signRequestForTest: signer.ts's. */
export type SignForTestOptions = SignOptions;

/** The signing key AWS derives for this secret, day and region. */
export function signingKeyForTest(secretKey: string, date: Date, region: string): Uint8Array {
  return deriveSigningKey(secretKey, formatAmzDate(date).slice(0, 8), region);
}

/** signer.ts's signRequest: header mode, any headers, any date, any payload hash. */
export const signRequestForTest = signRequest;

export interface PresignForTestOptions extends TestCredentials {
  date?: Date;
  expiresSeconds: number;
  /** Default: ["host"]. Headers named here must be present on the request. */
  signedHeaders?: string[];
  /** Puts X-Amz-Content-Sha256 in the query (MinIO extension). */
  payloadHash?: string;
}

/** A presigned request: the input's query plus the X-Amz-* parameters, signature last. */
export function presignRequestForTest(
  req: SignableRequest,
  opts: PresignForTestOptions,
): SignableRequest & { signature: string } {
  const date = opts.date ?? new Date();
  const amzDate = formatAmzDate(date);
  const scope = scopeOf(date, opts.region);
  const signedHeaders = opts.signedHeaders ?? ["host"];
  const extra: Array<[string, string]> = [
    ["X-Amz-Algorithm", ALGORITHM],
    ["X-Amz-Credential", `${opts.accessKey}/${scope}`],
    ["X-Amz-Date", amzDate],
    ["X-Amz-Expires", String(opts.expiresSeconds)],
    ["X-Amz-SignedHeaders", signedHeaders.join(";")],
  ];
  if (opts.sessionToken !== undefined) extra.push(["X-Amz-Security-Token", opts.sessionToken]);
  if (opts.payloadHash !== undefined) extra.push(["X-Amz-Content-Sha256", opts.payloadHash]);
  const encoded = extra.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
  const rawQuery = req.rawQuery === "" ? encoded : `${req.rawQuery}&${encoded}`;
  const key = signingKeyForTest(opts.secretKey, date, opts.region);
  const canonical = canonicalRequest({
    method: req.method,
    rawPath: req.rawPath,
    query: parseQuery(rawQuery),
    headers: req.headers,
    signedHeaders,
    payloadHash: opts.payloadHash ?? "UNSIGNED-PAYLOAD",
    presigned: true,
  });
  const signature = hmacHex(key, stringToSign(amzDate, scope, canonical));
  return {
    method: req.method,
    rawPath: req.rawPath,
    rawQuery: `${rawQuery}&X-Amz-Signature=${signature}`,
    headers: new Headers(req.headers),
    signature,
  };
}

/** The signature of one chunk, chained from the previous one (AWS sigv4-streaming.html). */
export function signChunkForTest(
  ctx: ChunkSigningContext,
  previousSignature: string,
  data: Uint8Array,
): string {
  return hmacHex(
    ctx.signingKey,
    `AWS4-HMAC-SHA256-PAYLOAD\n${ctx.amzDate}\n${ctx.scope}\n${previousSignature}\n` +
      `${EMPTY_SHA256}\n${sha256Hex(data)}`,
  );
}

/** The canonical trailer block that the trailer signature covers: `name:value\n` per trailer. */
export function canonicalTrailersForTest(trailers: Array<[string, string]>): string {
  return trailers.map(([n, v]) => `${n.toLowerCase()}:${v.trim()}\n`).join("");
}

/** The signature of the trailer section (AWS sigv4-streaming-trailers.html). */
export function signTrailerForTest(
  ctx: ChunkSigningContext,
  previousSignature: string,
  trailers: Array<[string, string]>,
): string {
  return hmacHex(
    ctx.signingKey,
    `AWS4-HMAC-SHA256-TRAILER\n${ctx.amzDate}\n${ctx.scope}\n${previousSignature}\n` +
      sha256Hex(canonicalTrailersForTest(trailers)),
  );
}

export interface EncodeChunkedOptions {
  /** Data bytes per chunk (clients use 64 KiB). */
  chunkSize: number;
  /** Sign each chunk, chained from `seedSignature`; absent for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
  signing?: ChunkSigningContext;
  /** Trailers after the final chunk (for the ...-TRAILER modes). */
  trailers?: Array<[string, string]>;
}

const enc = new TextEncoder();

/** Encodes a body as aws-chunked, exactly as the AWS SDKs put it on the wire. */
export function encodeAwsChunkedForTest(data: Uint8Array, opts: EncodeChunkedOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  let previous = opts.signing?.seedSignature ?? "";
  const emit = (chunk: Uint8Array) => {
    let header = chunk.length.toString(16);
    if (opts.signing !== undefined) {
      previous = signChunkForTest(opts.signing, previous, chunk);
      header += `;chunk-signature=${previous}`;
    }
    parts.push(enc.encode(header + "\r\n"));
    if (chunk.length > 0) parts.push(chunk, enc.encode("\r\n"));
  };
  for (let off = 0; off < data.length; off += opts.chunkSize) {
    emit(data.subarray(off, Math.min(data.length, off + opts.chunkSize)));
  }
  emit(new Uint8Array(0));
  if (opts.trailers === undefined) {
    parts.push(enc.encode("\r\n"));
  } else {
    let block = opts.trailers.map(([n, v]) => `${n}:${v}\r\n`).join("");
    if (opts.signing !== undefined) {
      block += `x-amz-trailer-signature:${
        signTrailerForTest(opts.signing, previous, opts.trailers)
      }\r\n`;
    }
    parts.push(enc.encode(block + "\r\n"));
  }
  return concatBytes(...parts);
}

/** The x-amz-content-sha256 value for each chunked mode. */
export const CHUNKED_MODES = {
  signed: STREAMING_SIGNED,
  signedTrailer: STREAMING_SIGNED_TRAILER,
  unsignedTrailer: STREAMING_UNSIGNED_TRAILER,
} as const;

/** A stream that yields `data` in pieces of the given sizes (cycled), to split frames anywhere. */
export function streamOf(data: Uint8Array, pieceSizes: number[] = [data.length]): ReadableStream<
  Uint8Array
> {
  let off = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (off >= data.length) {
        controller.close();
        return;
      }
      const size = Math.max(1, pieceSizes[i++ % pieceSizes.length] ?? data.length);
      controller.enqueue(data.slice(off, Math.min(data.length, off + size)));
      off += size;
    },
  });
}
