/**
 * Checks a body against the SHA-256 its request signed (x-amz-content-sha256 as 64 hex digits).
 * The digest is known only at the end, so the bytes flow through as they come and the stream
 * errors instead of closing when the digest differs: a consumer that commits only on a clean end
 * never commits a body that did not match.
 */
import { createHash } from "node:crypto";
import { constantTimeEqual, isSha256Hex } from "./_crypto.ts";
import { SigV4Error } from "./types.ts";

export function verifySha256Payload(
  body: ReadableStream<Uint8Array>,
  hex: string,
): ReadableStream<Uint8Array> {
  if (!isSha256Hex(hex)) {
    throw new SigV4Error("InvalidArgument", `x-amz-content-sha256 "${hex}" is not a SHA-256 value`);
  }
  const expected = hex.toLowerCase();
  const hash = createHash("sha256");
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          const actual = hash.digest("hex");
          if (!constantTimeEqual(actual, expected)) {
            controller.error(
              new SigV4Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                { ClientComputedContentSHA256: expected, S3ComputedContentSHA256: actual },
              ),
            );
          } else {
            controller.close();
          }
          return;
        }
        if (value.byteLength === 0) continue;
        hash.update(value);
        controller.enqueue(value);
        return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
