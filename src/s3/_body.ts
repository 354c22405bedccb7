/**
 * Request bodies: counted against their declared length, with transport failures (a connection
 * cut mid-upload) turned into IncompleteBody, then wrapped according to how SigV4 protects them.
 * Nothing here buffers: every wrapper passes chunks on as they arrive.
 */
import { decodeAwsChunked, verifySha256Payload } from "../auth/mod.ts";
import type { AuthResult } from "../auth/types.ts";
import { S3Error } from "./errors.ts";

/**
 * Passes `body` through, erroring with IncompleteBody when the transport fails or when the body
 * ends before `declared` bytes (declared < 0: unknown). Errors from `body` that are already
 * S3-facing (SigV4Error, S3Error) pass unchanged.
 */
export function guardBody(
  body: ReadableStream<Uint8Array>,
  declared: number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        controller.error(
          e instanceof Error && (e.name === "SigV4Error" || e.name === "S3Error")
            ? e
            : new S3Error("IncompleteBody"),
        );
        return;
      }
      if (r.done) {
        if (declared >= 0 && seen !== declared) controller.error(new S3Error("IncompleteBody"));
        else controller.close();
        return;
      }
      seen += r.value.byteLength;
      if (declared >= 0 && seen > declared) {
        controller.error(new S3Error("IncompleteBody"));
        await reader.cancel().catch(() => {});
        return;
      }
      controller.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

export interface PreparedBody {
  /** The payload as the object layer should see it (decoded, verified as it flows). */
  stream: ReadableStream<Uint8Array>;
  /** The payload's length in bytes, or -1 when unknown. */
  size: number;
  /** Trailing headers of an aws-chunked body with a trailer. */
  trailers?: Promise<Headers>;
}

/** Wraps the raw request body according to the payload mode the signature declared. */
export function prepareBody(
  raw: ReadableStream<Uint8Array> | null,
  headers: Headers,
  auth: Extract<AuthResult, { kind: "signed" }>,
): PreparedBody {
  const contentLength = parseLength(headers.get("content-length"));
  const wire = guardBody(raw ?? emptyStream(), raw === null ? 0 : contentLength);
  const payload = auth.payload;
  if (payload.type === "unsigned") return { stream: wire, size: raw === null ? 0 : contentLength };
  if (payload.type === "sha256") {
    return {
      stream: verifySha256Payload(wire, payload.hex),
      size: raw === null ? 0 : contentLength,
    };
  }
  const decodedHeader = headers.get("x-amz-decoded-content-length");
  const decoded = parseLength(decodedHeader);
  const trailer = payload.type === "streaming-unsigned-trailer" || payload.trailer;
  const opts: Parameters<typeof decodeAwsChunked>[1] = { trailer };
  if (decoded >= 0) opts.decodedContentLength = decoded;
  if (auth.chunkContext !== undefined && payload.type === "streaming-signed") {
    opts.signing = auth.chunkContext;
  }
  const names = headers.get("x-amz-trailer");
  if (trailer && names !== null) {
    opts.trailerNames = names.split(",").map((n) => n.trim().toLowerCase()).filter((n) => n !== "");
  }
  const { stream, trailers } = decodeAwsChunked(wire, opts);
  const prepared: PreparedBody = { stream, size: decoded };
  if (trailer) prepared.trailers = trailers;
  return prepared;
}

function parseLength(v: string | null): number {
  if (v === null) return -1;
  // A Content-Length sent twice arrives joined ("100, 100"); identical copies count as one
  // (RFC 9110 section 8.6).
  const copies = v.split(",").map((c) => c.trim());
  if (!copies.every((c) => c === copies[0]) || !/^\d{1,16}$/.test(copies[0]!)) return -1;
  return Number(copies[0]);
}

export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}
