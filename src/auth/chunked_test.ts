import assert from "node:assert/strict";
import { decodeAwsChunked, type DecodeAwsChunkedOptions } from "./chunked.ts";
import { type ChunkSigningContext, SigV4Error } from "./types.ts";
import { deriveSigningKey } from "./_crypto.ts";
import { encodeAwsChunkedForTest, signChunkForTest, streamOf } from "./testing.ts";
import { CHUNK_HEADER_BYTES_MAX, CHUNK_SIZE_BYTES_MAX } from "../config/limits.ts";

// AWS sigv4-streaming.html and sigv4-streaming-trailers.html: 65 KiB of 'a' in a 64 KiB and a
// 1 KiB chunk, signed with the documentation's example key on 20130524 in us-east-1.
const KEY = deriveSigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1");
const context = (seedSignature: string): ChunkSigningContext => ({
  seedSignature,
  signingKey: KEY,
  scope: "20130524/us-east-1/s3/aws4_request",
  amzDate: "20130524T000000Z",
});
const SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
const DATA = new Uint8Array(66560).fill(0x61);
const enc = new TextEncoder();

function concat(...parts: Array<string | Uint8Array>): Uint8Array {
  const bytes = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bytes) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

const DOC_BODY = concat(
  "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n",
  DATA.subarray(0, 65536),
  "\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n",
  DATA.subarray(65536),
  "\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n",
);

function docTrailerBody(blankLineBeforeTrailers: boolean): Uint8Array {
  return concat(
    "10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n",
    DATA.subarray(0, 65536),
    "\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n",
    DATA.subarray(65536),
    "\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n",
    blankLineBeforeTrailers ? "\r\n" : "",
    "x-amz-checksum-crc32c:sOO8/Q==\r\n",
    "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n",
    "\r\n",
  );
}

interface Outcome {
  data: Uint8Array;
  error?: unknown;
  trailers?: Headers;
}

async function decode(
  body: Uint8Array | ReadableStream<Uint8Array>,
  opts: DecodeAwsChunkedOptions,
  pieces: number[] = [body instanceof Uint8Array ? body.length : 1],
): Promise<Outcome> {
  const source = body instanceof Uint8Array ? streamOf(body, pieces) : body;
  const { stream, trailers } = decodeAwsChunked(source, opts);
  const parts: Uint8Array[] = [];
  let error: unknown;
  try {
    for await (const p of stream) parts.push(p);
  } catch (e) {
    error = e;
  }
  const data = concat(...parts);
  if (error !== undefined) {
    await assert.rejects(trailers);
    return { data, error };
  }
  return { data, trailers: await trailers };
}

/** Equality of byte arrays without node:assert's diff, which is slow on 64 KiB arrays. */
function assertBytes(actual: Uint8Array, expected: Uint8Array, message = ""): void {
  assert.equal(actual.length, expected.length, `length ${message}`);
  assert.ok(actual.every((b, i) => b === expected[i]), `content ${message}`);
}

function assertCode(outcome: Outcome, code: string): void {
  assert.ok(outcome.error instanceof SigV4Error, `expected ${code}, got ${outcome.error}`);
  assert.equal(outcome.error.code, code, outcome.error.message);
}

Deno.test("decodes the AWS documentation's signed chunked upload, however it is split", async () => {
  for (const pieces of [[DOC_BODY.length], [1], [7], [777], [65536 + 86], [3, 65536, 5, 2]]) {
    const out = await decode(DOC_BODY, {
      signing: context(SEED),
      trailer: false,
      decodedContentLength: 66560,
    }, pieces);
    assert.equal(out.error, undefined, `pieces ${pieces}: ${out.error}`);
    assertBytes(out.data, DATA);
  }
});

Deno.test("encodes the AWS documentation's chunked upload byte for byte", () => {
  assertBytes(
    encodeAwsChunkedForTest(DATA, { chunkSize: 65536, signing: context(SEED) }),
    DOC_BODY,
  );
  assertBytes(
    encodeAwsChunkedForTest(DATA, {
      chunkSize: 65536,
      signing: context(TRAILER_SEED),
      trailers: [["x-amz-checksum-crc32c", "sOO8/Q=="]],
    }),
    docTrailerBody(false),
  );
});

Deno.test("decodes the AWS documentation's upload with a signed trailer, in both layouts", async () => {
  for (const blank of [false, true]) {
    for (const pieces of [[1_000_000], [13], [4096]]) {
      const out = await decode(docTrailerBody(blank), {
        signing: context(TRAILER_SEED),
        trailer: true,
        decodedContentLength: 66560,
        trailerNames: ["x-amz-checksum-crc32c"],
      }, pieces);
      assert.equal(out.error, undefined, String(out.error));
      assertBytes(out.data, DATA);
      assert.equal(out.trailers?.get("x-amz-checksum-crc32c"), "sOO8/Q==");
      assert.equal(out.trailers?.has("x-amz-trailer-signature"), false);
    }
  }
});

Deno.test("rejects a changed trailer value with SignatureDoesNotMatch", async () => {
  const body = docTrailerBody(false);
  const text = new TextDecoder("latin1").decode(body);
  const at = text.indexOf("sOO8/Q==");
  const changed = body.slice();
  changed[at + 4] = "A".charCodeAt(0);
  const out = await decode(changed, { signing: context(TRAILER_SEED), trailer: true });
  assertCode(out, "SignatureDoesNotMatch");
});

Deno.test("decodes a signed chunk trickled in many small reads, and refuses a forged one", async () => {
  // Pieces of 100 bytes: each 64 KiB chunk arrives in ~650 reads, past CHUNK_HELD_VIEWS_MAX.
  const out = await decode(DOC_BODY, { signing: context(SEED), trailer: false }, [100]);
  assert.equal(out.error, undefined, String(out.error));
  assertBytes(out.data, DATA);
  const tampered = DOC_BODY.slice();
  tampered[50_000] = 0x62;
  const bad = await decode(tampered, { signing: context(SEED), trailer: false }, [100]);
  assertCode(bad, "SignatureDoesNotMatch");
  assert.equal(bad.data.length, 0);
});

Deno.test("never releases the bytes of a chunk whose signature fails", async () => {
  const secondDataStart = DOC_BODY.indexOf(0x0a, 65536 + 90) + 1;
  const tampered = DOC_BODY.slice();
  tampered[secondDataStart + 10] = 0x62;
  for (const pieces of [[tampered.length], [100], [1]]) {
    const out = await decode(tampered, { signing: context(SEED), trailer: false }, pieces);
    assertCode(out, "SignatureDoesNotMatch");
    // The first chunk verified and may have come out; nothing of the second may.
    assert.ok(out.data.length === 0 || out.data.length === 65536, `${out.data.length} bytes out`);
  }
  const first = DOC_BODY.slice();
  first[200] = 0x62;
  const out = await decode(first, { signing: context(SEED), trailer: false }, [10]);
  assertCode(out, "SignatureDoesNotMatch");
  assert.equal(out.data.length, 0);
});

Deno.test("rejects a wrong seed, swapped chunks and a dropped final chunk signature", async () => {
  const wrongSeed = await decode(DOC_BODY, { signing: context("0".repeat(64)), trailer: false });
  assertCode(wrongSeed, "SignatureDoesNotMatch");

  const ctx = context(SEED);
  const a = new Uint8Array(100).fill(1);
  const b = new Uint8Array(100).fill(2);
  const sigA = signChunkForTest(ctx, SEED, a);
  const sigB = signChunkForTest(ctx, sigA, b);
  const swapped = concat(
    `64;chunk-signature=${sigB}\r\n`,
    b,
    `\r\n64;chunk-signature=${sigA}\r\n`,
    a,
    "\r\n",
  );
  assertCode(await decode(swapped, { signing: ctx, trailer: false }), "SignatureDoesNotMatch");

  const unsignedFinal = concat(`64;chunk-signature=${sigA}\r\n`, a, "\r\n0\r\n\r\n");
  assertCode(await decode(unsignedFinal, { signing: ctx, trailer: false }), "InvalidArgument");
});

Deno.test("errors on a body cut short anywhere, and never closes it cleanly", async () => {
  const ctx = context(SEED);
  const data = new Uint8Array(300).map((_, i) => i);
  const cases: Array<[Uint8Array, DecodeAwsChunkedOptions]> = [
    [encodeAwsChunkedForTest(data, { chunkSize: 100, signing: ctx }), {
      signing: ctx,
      trailer: false,
      decodedContentLength: 300,
    }],
    [
      encodeAwsChunkedForTest(data, {
        chunkSize: 100,
        trailers: [["x-amz-checksum-crc32", "AA=="]],
      }),
      { trailer: true, decodedContentLength: 300, trailerNames: ["x-amz-checksum-crc32"] },
    ],
    [
      encodeAwsChunkedForTest(data, {
        chunkSize: 100,
        signing: ctx,
        trailers: [["x-amz-checksum-crc32", "AA=="]],
      }),
      {
        signing: ctx,
        trailer: true,
        decodedContentLength: 300,
        trailerNames: ["x-amz-checksum-crc32"],
      },
    ],
  ];
  for (const [body, opts] of cases) {
    const full = await decode(body, opts);
    assert.equal(full.error, undefined, String(full.error));
    assertBytes(full.data, data);
    // Cutting off only the final blank line is tolerated (everything signed has verified);
    // any shorter body is an error.
    for (let cut = 0; cut < body.length - 2; cut++) {
      const out = await decode(body.subarray(0, cut), opts, [37]);
      assert.ok(out.error instanceof SigV4Error, `cut at ${cut} of ${body.length} closed cleanly`);
    }
  }
});

Deno.test("checks the decoded length against x-amz-decoded-content-length", async () => {
  const body = encodeAwsChunkedForTest(new Uint8Array(50), {
    chunkSize: 20,
    signing: context(SEED),
  });
  const short = await decode(body, {
    signing: context(SEED),
    trailer: false,
    decodedContentLength: 51,
  });
  assertCode(short, "IncompleteBody");
  const long = await decode(body, {
    signing: context(SEED),
    trailer: false,
    decodedContentLength: 49,
  });
  assertCode(long, "InvalidArgument");
});

Deno.test("refuses an oversized chunk and an overlong header line before buffering them", async () => {
  const huge = (CHUNK_SIZE_BYTES_MAX + 1).toString(16);
  const big = await decode(enc.encode(`${huge};chunk-signature=${"0".repeat(64)}\r\n`), {
    signing: context(SEED),
    trailer: false,
  });
  assertCode(big, "InvalidArgument");
  const longLine = await decode(enc.encode("1;" + "x".repeat(CHUNK_HEADER_BYTES_MAX + 10)), {
    trailer: true,
  }, [100]);
  assertCode(longLine, "InvalidArgument");
});

Deno.test("reads unsigned chunks with trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER)", async () => {
  const data = enc.encode("hello, unsigned world");
  const body = encodeAwsChunkedForTest(data, {
    chunkSize: 8,
    trailers: [["x-amz-checksum-crc32", "i9aeUg=="]],
  });
  assert.equal(
    new TextDecoder().decode(body),
    "8\r\nhello, u\r\n8\r\nnsigned \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:i9aeUg==\r\n\r\n",
  );
  const out = await decode(body, {
    trailer: true,
    decodedContentLength: data.length,
    trailerNames: ["x-amz-checksum-crc32"],
  }, [3]);
  assert.equal(out.error, undefined, String(out.error));
  assertBytes(out.data, data);
  assert.equal(out.trailers?.get("x-amz-checksum-crc32"), "i9aeUg==");

  // One extra CRLF at the very end is tolerated.
  const extra = await decode(enc.encode("3\r\nabc\r\n0\r\n\r\n\r\n"), { trailer: false });
  assert.equal(extra.error, undefined, String(extra.error));

  // Trailer lines ending in a bare LF are read too.
  const lf = enc.encode("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\n\n");
  const lfOut = await decode(lf, { trailer: true });
  assert.equal(lfOut.trailers?.get("x-amz-checksum-crc32"), "AAAAAA==");
});

Deno.test("rejects undeclared, missing, duplicate and unsigned trailers", async () => {
  const body = (t: string) => enc.encode(`3\r\nabc\r\n0\r\n${t}\r\n`);
  const opts = { trailer: true, trailerNames: ["x-amz-checksum-crc32"] };
  assertCode(await decode(body("x-amz-checksum-sha1:AA==\r\n"), opts), "MalformedTrailerError");
  assertCode(await decode(body(""), opts), "MalformedTrailerError");
  assertCode(
    await decode(body("x-amz-checksum-crc32:AA==\r\nx-amz-checksum-crc32:AA==\r\n"), opts),
    "MalformedTrailerError",
  );
  assertCode(await decode(body("no colon here\r\n"), opts), "MalformedTrailerError");
  assertCode(
    await decode(body(`x-amz-trailer-signature:${"0".repeat(64)}\r\n`), { trailer: true }),
    "MalformedTrailerError",
  );
  // Signed chunks whose trailers carry no signature.
  const ctx = context(SEED);
  const signed = encodeAwsChunkedForTest(enc.encode("abc"), { chunkSize: 3, signing: ctx });
  const withTrailer = concat(
    signed.subarray(0, signed.length - 2),
    "x-amz-checksum-crc32:AA==\r\n\r\n",
  );
  assertCode(await decode(withTrailer, { signing: ctx, trailer: true }), "MalformedTrailerError");
});

Deno.test("rejects malformed framing: bad sizes, missing CRLF, data after the end", async () => {
  const bad = [
    "zz\r\nabc\r\n0\r\n\r\n",
    "3\nabc\r\n0\r\n\r\n",
    "3\r\nabcd\r\n0\r\n\r\n",
    "3\r\nabc\r\n0\r\n\r\nextra",
    "3\r\nabc\r\n0\r\n\r\n\r\n\r\n",
    "-3\r\nabc\r\n0\r\n\r\n",
    "3;ext=1\r\nabc\r\n0\r\n\r\n",
    "0x3\r\nabc\r\n0\r\n\r\n",
  ];
  for (const b of bad) {
    const out = await decode(enc.encode(b), { trailer: false });
    assertCode(out, "InvalidArgument");
  }
});

Deno.test("turns a failing source into IncompleteBody and rejects the trailers", async () => {
  let sent = false;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(enc.encode("5\r\nab"));
      } else {
        controller.error(new Error("connection reset"));
      }
    },
  });
  const out = await decode(source, { trailer: false });
  assertCode(out, "IncompleteBody");
  assert.match((out.error as Error).message, /connection reset/);
});
