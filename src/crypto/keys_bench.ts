/**
 * Per-object key work of SSE, which dominates small objects: a data key generated and sealed
 * (PUT), opened (GET), and a stream key derived; plus a whole 4 KiB object through the stream.
 */
import { deriveStreamKey, newStreamIv } from "./keys.ts";
import { Kms } from "./kms.ts";
import { createEncryptStream } from "./stream.ts";

const kms = Kms.open({ name: "bench", key: crypto.getRandomValues(new Uint8Array(32)) });
const context = { mode: "SSE-S3" as const, bucket: "bucket", object: "some/object/key" };
const { plaintext, sealed } = await kms.generateDataKey("bench", context);
const iv = newStreamIv();
const small = crypto.getRandomValues(new Uint8Array(4096));

Deno.bench("generate and seal a data key", { group: "keys" }, async () => {
  await kms.generateDataKey("bench", context);
});

Deno.bench("open a sealed data key", { group: "keys" }, async () => {
  await kms.decryptDataKey("bench", sealed, context);
});

Deno.bench("derive a stream key", { group: "keys" }, () => {
  deriveStreamKey(plaintext, { iv, partNumber: 0 });
});

Deno.bench("encrypt a 4KiB object (key, stream)", { group: "small" }, async () => {
  const { plaintext: dataKey } = await kms.generateDataKey("bench", context);
  const streamKey = deriveStreamKey(dataKey, { iv: newStreamIv(), partNumber: 0 });
  const stream = new Blob([small]).stream().pipeThrough(createEncryptStream(streamKey));
  for await (const _ of stream) { /* drain */ }
});
