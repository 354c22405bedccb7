/**
 * FORMAT.md version 1, frozen: vectors written by an independent implementation of the grammar
 * (testdata/format_v1.py). A change that breaks these breaks every stored encrypted object.
 */
import { equal, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import vectors from "./testdata/format_v1.json" with { type: "json" };
import { deriveStreamKey, encodeContext, type KeyContext, openSealedKey } from "./keys.ts";
import { encodePartList, partsMac } from "./parts_mac.ts";
import { createDecryptStream, createEncryptStream, encryptedSize } from "./stream.ts";
import { equalBytes, pipeBytes } from "./_testing.ts";

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("a sealed key written from FORMAT.md by another implementation opens", () => {
  const v = vectors.sealedKey;
  const context: KeyContext = {
    mode: v.context.mode as KeyContext["mode"],
    bucket: v.context.bucket,
    object: v.context.object,
    encryptionContext: v.context.encryptionContext,
  };
  const opened = openSealedKey(
    fromHex(v.master),
    fromHex(v.sealed),
    encodeContext(v.context.keyId, context),
  );
  equal(toHex(opened), v.dataKey);
});

Deno.test("the stream key derivation matches FORMAT.md's known answer", () => {
  const v = vectors.streamKey;
  const derived = deriveStreamKey(fromHex(v.dataKey), {
    iv: fromHex(v.iv),
    partNumber: v.partNumber,
  });
  equal(toHex(derived.key), v.key);
  equal(toHex(derived.noncePrefix), v.noncePrefix);
});

Deno.test("streams match the known answers byte for byte and decrypt back", async () => {
  const v = vectors.streamKey;
  const streamKey = { key: fromHex(v.key), noncePrefix: fromHex(v.noncePrefix) };
  for (const s of vectors.streams) {
    const plaintext = Uint8Array.from({ length: s.plainSize }, (_, i) => (i * 7 + 3) & 0xff);
    const ciphertext = await pipeBytes(plaintext, createEncryptStream(streamKey));
    equal(ciphertext.length, s.cipherSize);
    equal(encryptedSize(s.plainSize), s.cipherSize);
    equal(toHex(ciphertext.subarray(0, 48)), s.head, `size ${s.plainSize}`);
    equal(createHash("sha256").update(ciphertext).digest("hex"), s.sha256, `size ${s.plainSize}`);
    const back = await pipeBytes(
      ciphertext,
      createDecryptStream(streamKey, { plainSize: s.plainSize }),
    );
    ok(equalBytes(back, plaintext));
  }
});

Deno.test("a part-format-2 stream key matches FORMAT.md's known answer", () => {
  const v = vectors.partStreamKeyV2;
  const derived = deriveStreamKey(fromHex(v.dataKey), {
    iv: fromHex(v.iv),
    partNumber: v.partNumber,
    partFormat: 2,
  });
  equal(toHex(derived.key), v.key);
  equal(toHex(derived.noncePrefix), v.noncePrefix);
  // Another label than part format 1's key for the same data key, IV and part number.
  ok(toHex(derived.key) !== vectors.streamKey.key);
});

Deno.test("the part list encoding and its MAC match FORMAT.md's known answer", () => {
  const v = vectors.partsMac;
  const parts = v.parts.map((p) => ({ ...p, iv: fromHex(p.iv) }));
  equal(toHex(encodePartList(parts)), v.list);
  equal(toHex(partsMac(fromHex(v.dataKey), parts)), v.mac);
});
