import assert from "node:assert/strict";
import { verifySha256Payload } from "./payload.ts";
import { SigV4Error } from "./types.ts";
import { EMPTY_SHA256, sha256Hex, streamOf } from "./testing.ts";

const body = new TextEncoder().encode("Welcome to Amazon S3.");
const HASH = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";

async function readAll(
  stream: ReadableStream<Uint8Array>,
): Promise<{ bytes: number; error?: unknown }> {
  let bytes = 0;
  try {
    for await (const p of stream) bytes += p.length;
  } catch (error) {
    return { bytes, error };
  }
  return { bytes };
}

Deno.test("passes a body through whose SHA-256 matches, in upper or lower case", async () => {
  assert.equal(sha256Hex(body), HASH);
  for (const hex of [HASH, HASH.toUpperCase()]) {
    const out = await readAll(verifySha256Payload(streamOf(body, [1, 5]), hex));
    assert.deepEqual(out, { bytes: body.length });
  }
  assert.deepEqual(await readAll(verifySha256Payload(streamOf(new Uint8Array(0)), EMPTY_SHA256)), {
    bytes: 0,
  });
});

Deno.test("errors instead of closing when the body does not match its SHA-256", async () => {
  const changed = body.slice();
  changed[3] = 0x21;
  const out = await readAll(verifySha256Payload(streamOf(changed, [4]), HASH));
  assert.ok(out.error instanceof SigV4Error);
  assert.equal(out.error.code, "XAmzContentSHA256Mismatch");
  assert.equal(out.error.details.ClientComputedContentSHA256, HASH);
  // Every byte was delivered; only the clean end was withheld.
  assert.equal(out.bytes, body.length);

  const truncated = await readAll(verifySha256Payload(streamOf(body.subarray(0, 10)), HASH));
  assert.equal((truncated.error as SigV4Error).code, "XAmzContentSHA256Mismatch");
});

Deno.test("refuses a digest that is not 64 hex digits", () => {
  assert.throws(() => verifySha256Payload(streamOf(body), "abc"), { code: "InvalidArgument" });
});
