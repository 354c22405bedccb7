/**
 * aws-chunked decoding throughput. MB/s = 64 / (average seconds per iteration).
 * The floor to compare with is "sha256 64MiB": a signed decode must hash every byte once.
 */
import { createHash } from "node:crypto";
import { decodeAwsChunked } from "./chunked.ts";
import { deriveSigningKey } from "./_crypto.ts";
import { encodeAwsChunkedForTest } from "./testing.ts";
import type { ChunkSigningContext } from "./types.ts";

const SIZE = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;
const data = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 4096) data[i] = i & 0xff;
const ctx: ChunkSigningContext = {
  seedSignature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
  signingKey: deriveSigningKey("secret", "20130524", "us-east-1"),
  scope: "20130524/us-east-1/s3/aws4_request",
  amzDate: "20130524T000000Z",
};
const signedBody = encodeAwsChunkedForTest(data, { chunkSize: CHUNK, signing: ctx });
const unsignedBody = encodeAwsChunkedForTest(data, {
  chunkSize: CHUNK,
  trailers: [["x-amz-checksum-crc32", "AAAAAA=="]],
});

/** The body as a network read would hand it over: 64 KiB pieces that do not align with chunks. */
function pieces(body: Uint8Array, size = 65536): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (off >= body.length) return controller.close();
      controller.enqueue(body.subarray(off, off + size));
      off += size;
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const p of stream) n += p.length;
  if (n !== SIZE) throw new Error(`decoded ${n} bytes`);
  return n;
}

Deno.bench("sha256 64MiB (floor)", { group: "aws-chunked", baseline: true }, () => {
  const h = createHash("sha256");
  for (let off = 0; off < SIZE; off += CHUNK) h.update(data.subarray(off, off + CHUNK));
  h.digest();
});

Deno.bench("decode 64MiB in 64KiB signed chunks", { group: "aws-chunked" }, async () => {
  const { stream } = decodeAwsChunked(pieces(signedBody), {
    signing: ctx,
    trailer: false,
    decodedContentLength: SIZE,
  });
  await drain(stream);
});

Deno.bench(
  "decode 64MiB in 64KiB unsigned chunks with trailer",
  { group: "aws-chunked" },
  async () => {
    const { stream } = decodeAwsChunked(pieces(unsignedBody), {
      trailer: true,
      decodedContentLength: SIZE,
    });
    await drain(stream);
  },
);
