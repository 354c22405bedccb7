/**
 * Decodes an `aws-chunked` body (AWS sigv4-streaming.html, sigv4-streaming-trailers.html).
 *
 * How this works
 * - Signed:   `<hex-size>;chunk-signature=<sig>\r\n<data>\r\n` ... `0;chunk-signature=<sig>\r\n`
 *   then `\r\n`, or trailer lines `name:value\r\n`, `x-amz-trailer-signature:<sig>\r\n`, `\r\n`.
 *   Each chunk's signature is an HMAC with the request's signing key over
 *   "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n<previous signature>\n<sha256("")>\n<sha256(data)>",
 *   so the chain starts at the request's own signature (the seed) and fixes the chunks' order.
 *   The trailer signature covers "AWS4-HMAC-SHA256-TRAILER\n<date>\n<scope>\n<final chunk's
 *   signature>\n<sha256 of the trailer lines as name:value\n>".
 * - Unsigned (STREAMING-UNSIGNED-PAYLOAD-TRAILER): `<hex-size>\r\n<data>\r\n` ... `0\r\n`, trailers.
 * - A signed chunk is held (as views of the pieces it arrived in, copied only when it came in many
 *   small reads) until its signature verifies and only then released, so at most one chunk
 *   (CHUNK_SIZE_BYTES_MAX) is buffered;
 *   unsigned chunks flow through as they arrive. Lines (chunk headers, trailers) are the only bytes
 *   copied, and they are bounded by CHUNK_HEADER_BYTES_MAX and CHUNK_TRAILER_BYTES_MAX.
 * - Every failure errors the stream (never a clean close), and so does a body that ends early: a
 *   consumer that commits on a clean end never commits a body that did not verify.
 *
 * Tolerated, because SDKs and AWS's own examples differ: a blank line between the final chunk and
 * the trailers, trailer lines ending in a bare LF, one extra CRLF at the very end, and a body that
 * ends without its final blank line once everything that is signed has been verified.
 */
import { createHash, createHmac } from "node:crypto";
import {
  CHUNK_HEADER_BYTES_MAX,
  CHUNK_HELD_VIEWS_MAX,
  CHUNK_SIZE_BYTES_MAX,
  CHUNK_TRAILER_BYTES_MAX,
  CHUNK_TRAILER_LINES_MAX,
} from "../config/limits.ts";
import { constantTimeEqual, EMPTY_SHA256, KeyedHmac } from "./_crypto.ts";
import { type ChunkSigningContext, SigV4Error } from "./types.ts";

export interface DecodeAwsChunkedOptions {
  /** Chunks are signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]): the chain's start. */
  signing?: ChunkSigningContext;
  /** A trailer section follows the final chunk (the ...-TRAILER modes). */
  trailer: boolean;
  /** x-amz-decoded-content-length, when the request gave it: the data must be exactly this long. */
  decodedContentLength?: number;
  /** Trailer names declared in x-amz-trailer: only these may come, and all of them must. */
  trailerNames?: string[];
}

export interface DecodedAwsChunked {
  /** The decoded data; errors with a SigV4Error on any failure. */
  stream: ReadableStream<Uint8Array>;
  /** The trailers (names lower case, without the signature), once the stream has ended cleanly. */
  trailers: Promise<Headers>;
}

type State = "size" | "data" | "data-crlf" | "end-crlf" | "trailer" | "done";

const CR = 0x0d;
const LF = 0x0a;
const SIGNATURE_PREFIX = ";chunk-signature=";
const LINE_BYTES_MAX = Math.max(CHUNK_HEADER_BYTES_MAX, CHUNK_TRAILER_BYTES_MAX);

function incomplete(message = "The request body terminated unexpectedly"): SigV4Error {
  return new SigV4Error("IncompleteBody", message);
}

function malformed(message: string): SigV4Error {
  return new SigV4Error("InvalidArgument", `Malformed aws-chunked encoding: ${message}`);
}

function malformedTrailer(message: string): SigV4Error {
  return new SigV4Error(
    "MalformedTrailerError",
    `The request contained trailing data that was not well-formed: ${message}`,
  );
}

function mismatch(what: string): SigV4Error {
  return new SigV4Error(
    "SignatureDoesNotMatch",
    `The ${what} signature we calculated does not match the signature you provided.`,
  );
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** The push parser behind `decodeAwsChunked`; exported for the fuzz test and the benchmark. */
export class AwsChunkedDecoder {
  #state: State = "size";
  #line: Uint8Array | undefined;
  #lineLength = 0;
  #remaining = 0;
  #crlfSeen = 0;
  #decoded = 0;
  #hash: ReturnType<typeof createHash> | undefined;
  #held: Uint8Array[] = [];
  #chunkSignature = "";
  #previous: string;
  #trailerBytes = 0;
  #trailerLines: Array<[string, string]> = [];
  #trailerSigned = false;
  #blankSkipped = false;
  #hmac: KeyedHmac | undefined;
  #extraEolBytes = 0;
  #chunkSize = 0;
  #copy: Uint8Array | undefined;
  #copyLength = 0;
  readonly trailers = new Headers();

  constructor(readonly opts: DecodeAwsChunkedOptions) {
    this.#previous = opts.signing?.seedSignature ?? "";
  }

  /** Consumes one piece of the body; appends released data to `out`. Throws SigV4Error. */
  feed(piece: Uint8Array, out: Uint8Array[]): void {
    let pos = 0;
    const end = piece.length;
    while (pos < end) {
      switch (this.#state) {
        case "size":
        case "trailer": {
          const nl = piece.indexOf(LF, pos);
          const limit = this.#state === "size" ? CHUNK_HEADER_BYTES_MAX : CHUNK_TRAILER_BYTES_MAX;
          if (nl < 0) {
            this.#appendLine(piece.subarray(pos), limit);
            pos = end;
            break;
          }
          const line = this.#takeLine(piece.subarray(pos, nl), limit);
          pos = nl + 1;
          if (this.#state === "size") this.#onSizeLine(line);
          else this.#onTrailerLine(line);
          break;
        }
        case "data": {
          const take = Math.min(this.#remaining, end - pos);
          const data = piece.subarray(pos, pos + take);
          pos += take;
          this.#remaining -= take;
          if (this.#hash !== undefined) {
            this.#hash.update(data);
            this.#hold(data);
          } else {
            out.push(data);
          }
          if (this.#remaining === 0) {
            if (this.#hash !== undefined) {
              this.#verifyChunk(this.#hash.digest("hex"));
              this.#hash = undefined;
              if (this.#copy !== undefined) {
                out.push(this.#copy.subarray(0, this.#copyLength));
                this.#copy = undefined;
              } else {
                for (const h of this.#held) out.push(h);
              }
              this.#held = [];
            }
            this.#state = "data-crlf";
            this.#crlfSeen = 0;
          }
          break;
        }
        case "data-crlf":
        case "end-crlf": {
          const want = this.#crlfSeen === 0 ? CR : LF;
          if (piece[pos] !== want) {
            throw malformed(
              this.#state === "data-crlf" ? "chunk data is not followed by CRLF" : "no final CRLF",
            );
          }
          pos++;
          if (++this.#crlfSeen === 2) {
            this.#state = this.#state === "data-crlf" ? "size" : "done";
          }
          break;
        }
        case "done": {
          // Some clients end with one more CRLF than the format has (MinIO tolerates it too).
          const c = piece[pos];
          if ((c !== CR && c !== LF) || ++this.#extraEolBytes > 2) {
            throw malformed("data after the final chunk");
          }
          pos++;
          break;
        }
      }
    }
  }

  /**
   * Holds a piece of a signed chunk until the chunk verifies: as views of the reads it came in,
   * or, once there are more than CHUNK_HELD_VIEWS_MAX of them, copied into one buffer of the
   * chunk's size, so that a trickled chunk costs no more memory than a whole one.
   */
  #hold(data: Uint8Array): void {
    if (this.#copy === undefined) {
      this.#held.push(data);
      if (this.#held.length <= CHUNK_HELD_VIEWS_MAX) return;
      this.#copy = new Uint8Array(this.#chunkSize);
      this.#copyLength = 0;
      for (const h of this.#held) {
        this.#copy.set(h, this.#copyLength);
        this.#copyLength += h.length;
      }
      this.#held = [];
      return;
    }
    this.#copy.set(data, this.#copyLength);
    this.#copyLength += data.length;
  }

  /** Called at the end of the body: throws unless everything arrived and verified. */
  finish(): void {
    if (this.#state === "end-crlf" && this.#crlfSeen === 0) this.#state = "done";
    // The final blank line is missing: accept once everything signed has verified.
    if (this.#state === "trailer" && this.#lineLength === 0) this.#endTrailers();
    if (this.#state !== "done") throw incomplete();
    const want = this.opts.decodedContentLength;
    if (want !== undefined && this.#decoded !== want) {
      throw incomplete(
        `The decoded body is ${this.#decoded} bytes but x-amz-decoded-content-length says ${want}`,
      );
    }
  }

  #appendLine(bytes: Uint8Array, limit: number): void {
    if (this.#lineLength + bytes.length > limit) {
      throw this.#state === "size"
        ? malformed(`chunk header line longer than ${limit} bytes`)
        : malformedTrailer(`trailer section longer than ${limit} bytes`);
    }
    this.#line ??= new Uint8Array(LINE_BYTES_MAX);
    this.#line.set(bytes, this.#lineLength);
    this.#lineLength += bytes.length;
  }

  /** The complete line (without LF): the held partial line plus `rest`. */
  #takeLine(rest: Uint8Array, limit: number): string {
    let line: string;
    if (this.#lineLength === 0) {
      if (rest.length > limit) {
        throw this.#state === "size"
          ? malformed(`chunk header line longer than ${limit} bytes`)
          : malformedTrailer(`trailer section longer than ${limit} bytes`);
      }
      line = latin1(rest);
    } else {
      this.#appendLine(rest, limit);
      line = latin1(this.#line!.subarray(0, this.#lineLength));
      this.#lineLength = 0;
    }
    return line;
  }

  #onSizeLine(raw: string): void {
    if (!raw.endsWith("\r")) throw malformed("chunk header line does not end in CRLF");
    const line = raw.slice(0, -1);
    const semi = line.indexOf(";");
    const hex = semi < 0 ? line : line.slice(0, semi);
    if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw malformed(`bad chunk size "${hex.slice(0, 32)}"`);
    const size = parseInt(hex, 16);
    if (size > CHUNK_SIZE_BYTES_MAX) {
      throw malformed(`chunk of ${size} bytes is over the ${CHUNK_SIZE_BYTES_MAX}-byte limit`);
    }
    if (this.opts.signing !== undefined) {
      if (semi < 0 || !line.startsWith(SIGNATURE_PREFIX, semi)) {
        throw malformed("chunk header has no chunk-signature");
      }
      const sig = line.slice(semi + SIGNATURE_PREFIX.length);
      if (!/^[0-9a-f]{64}$/.test(sig)) throw malformed("chunk-signature is not 64 hex digits");
      this.#chunkSignature = sig;
    } else if (semi >= 0) {
      throw malformed("unsigned chunk header has an extension");
    }
    const want = this.opts.decodedContentLength;
    if (want !== undefined && this.#decoded + size > want) {
      throw malformed(`chunks carry more than the ${want} bytes of x-amz-decoded-content-length`);
    }
    this.#decoded += size;
    if (size === 0) {
      if (this.opts.signing !== undefined) this.#verifyChunk(EMPTY_SHA256);
      this.#state = this.opts.trailer ? "trailer" : "end-crlf";
      this.#crlfSeen = 0;
      return;
    }
    this.#state = "data";
    this.#remaining = size;
    this.#chunkSize = size;
    if (this.opts.signing !== undefined) this.#hash = createHash("sha256");
  }

  #verifyChunk(dataSha256: string): void {
    const ctx = this.opts.signing!;
    this.#hmac ??= new KeyedHmac(ctx.signingKey);
    const expected = this.#hmac.hex(
      `AWS4-HMAC-SHA256-PAYLOAD\n${ctx.amzDate}\n${ctx.scope}\n${this.#previous}\n` +
        `${EMPTY_SHA256}\n${dataSha256}`,
    );
    if (!constantTimeEqual(expected, this.#chunkSignature)) throw mismatch("chunk");
    this.#previous = expected;
  }

  #onTrailerLine(raw: string): void {
    this.#trailerBytes += raw.length + 1;
    if (this.#trailerBytes > CHUNK_TRAILER_BYTES_MAX) {
      throw malformedTrailer(`trailer section longer than ${CHUNK_TRAILER_BYTES_MAX} bytes`);
    }
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") {
      if (this.#trailerLines.length === 0 && !this.#trailerSigned && !this.#blankSkipped) {
        // AWS's example puts a blank line between the final chunk and the trailers; the SDKs do not.
        this.#blankSkipped = true;
        return;
      }
      this.#endTrailers();
      return;
    }
    if (this.#trailerSigned) throw malformedTrailer("a line after x-amz-trailer-signature");
    const colon = line.indexOf(":");
    if (colon <= 0) throw malformedTrailer(`"${line.slice(0, 64)}" is not name:value`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw malformedTrailer(`bad trailer name "${name.slice(0, 64)}"`);
    }
    if (name === "x-amz-trailer-signature") {
      if (this.opts.signing === undefined) {
        throw malformedTrailer("a trailer signature on an unsigned upload");
      }
      const ctx = this.opts.signing;
      const block = this.#trailerLines.map(([n, v]) => `${n}:${v}\n`).join("");
      // The lines were read as byte strings: hash them as the bytes they came as.
      const blockHash = createHash("sha256").update(block, "latin1").digest("hex");
      const expected = createHmac("sha256", ctx.signingKey).update(
        `AWS4-HMAC-SHA256-TRAILER\n${ctx.amzDate}\n${ctx.scope}\n${this.#previous}\n${blockHash}`,
      ).digest("hex");
      if (!constantTimeEqual(expected, value.toLowerCase())) throw mismatch("trailer");
      this.#trailerSigned = true;
      return;
    }
    if (this.#trailerLines.length >= CHUNK_TRAILER_LINES_MAX) {
      throw malformedTrailer(`more than ${CHUNK_TRAILER_LINES_MAX} trailers`);
    }
    const declared = this.opts.trailerNames;
    if (declared !== undefined && !declared.includes(name)) {
      throw malformedTrailer(`trailer "${name}" was not declared in x-amz-trailer`);
    }
    if (this.trailers.has(name)) throw malformedTrailer(`trailer "${name}" sent twice`);
    this.#trailerLines.push([name, value]);
    this.trailers.set(name, value);
  }

  #endTrailers(): void {
    if (
      this.opts.signing !== undefined && this.#trailerLines.length > 0 && !this.#trailerSigned
    ) {
      throw malformedTrailer("signed trailers without x-amz-trailer-signature");
    }
    for (const name of this.opts.trailerNames ?? []) {
      if (!this.trailers.has(name)) throw malformedTrailer(`declared trailer "${name}" is missing`);
    }
    this.#state = "done";
  }
}

/**
 * Decodes an aws-chunked body, verifying chunk and trailer signatures when `opts.signing` is set.
 * Memory is bounded by one chunk plus one line, whatever the body.
 */
export function decodeAwsChunked(
  body: ReadableStream<Uint8Array>,
  opts: DecodeAwsChunkedOptions,
): DecodedAwsChunked {
  const decoder = new AwsChunkedDecoder(opts);
  const reader = body.getReader();
  let resolveTrailers!: (h: Headers) => void;
  let rejectTrailers!: (e: unknown) => void;
  const trailers = new Promise<Headers>((resolve, reject) => {
    resolveTrailers = resolve;
    rejectTrailers = reject;
  });
  // A caller that only reads the stream must not see an unhandled rejection.
  trailers.catch(() => {});
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            decoder.finish();
            controller.close();
            resolveTrailers(decoder.trailers);
            return;
          }
          const out: Uint8Array[] = [];
          decoder.feed(value, out);
          if (out.length > 0) {
            for (const o of out) controller.enqueue(o);
            return;
          }
        }
      } catch (e) {
        const error = e instanceof SigV4Error ? e : incomplete(
          `The request body could not be read: ${e instanceof Error ? e.message : String(e)}`,
        );
        controller.error(error);
        rejectTrailers(error);
        reader.cancel(error).catch(() => {});
      }
    },
    cancel(reason) {
      rejectTrailers(reason);
      return reader.cancel(reason);
    },
  });
  return { stream, trailers };
}
