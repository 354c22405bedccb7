import { deepStrictEqual, equal, notDeepStrictEqual, ok, throws } from "node:assert/strict";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { CryptoError, DecryptionFailed } from "./errors.ts";
import {
  deriveStreamKey,
  encodeContext,
  inspectSealedKey,
  type KeyContext,
  newDataKey,
  newStreamIv,
  openSealedKey,
  parseEncryptionContext,
  parseServerSideEncryption,
  SEALED_KEY_BYTES,
  sealKey,
  SealScheme,
} from "./keys.ts";
import { equalBytes } from "./_testing.ts";

const CONTEXT: KeyContext = {
  mode: "SSE-KMS",
  bucket: "photos",
  object: "2026/cat.jpg",
  encryptionContext: { team: "a", project: "b" },
};

Deno.test("the stream key is HKDF-SHA256 of the data key, as WebCrypto computes it", async () => {
  const dataKey = newDataKey();
  const iv = newStreamIv();
  const derived = deriveStreamKey(dataKey, { iv, partNumber: 7 });
  const info = new Uint8Array([...new TextEncoder().encode("shale sse stream v1"), 0, 0, 0, 7]);
  const base = await crypto.subtle.importKey("raw", new Uint8Array(dataKey), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(iv), info },
      base,
      39 * 8,
    ),
  );
  ok(equalBytes(derived.key, bits.subarray(0, 32)));
  ok(equalBytes(derived.noncePrefix, bits.subarray(32)));
});

Deno.test("each part and each stream IV gets its own stream key", () => {
  const dataKey = newDataKey();
  const iv = newStreamIv();
  const a = deriveStreamKey(dataKey, { iv, partNumber: 1 });
  const b = deriveStreamKey(dataKey, { iv, partNumber: 2 });
  const c = deriveStreamKey(dataKey, { iv: newStreamIv(), partNumber: 1 });
  const again = deriveStreamKey(dataKey, { iv, partNumber: 1 });
  ok(equalBytes(a.key, again.key) && equalBytes(a.noncePrefix, again.noncePrefix));
  ok(!equalBytes(a.key, b.key));
  ok(!equalBytes(a.key, c.key));
});

Deno.test("a sealed key is 90 bytes with its header readable and opens with its context", () => {
  const master = newDataKey();
  const dataKey = newDataKey();
  const context = encodeContext("main", CONTEXT);
  const sealed = sealKey(master, dataKey, { scheme: SealScheme.Kms, keyVersion: 3, context });
  equal(sealed.length, SEALED_KEY_BYTES);
  equal(new TextDecoder().decode(sealed.subarray(0, 4)), "SHSK");
  deepStrictEqual(inspectSealedKey(sealed), { version: 1, scheme: 1, keyVersion: 3 });
  ok(equalBytes(openSealedKey(master, sealed, context), dataKey));
  ok(!equalBytes(sealed.subarray(10), dataKey), "not in clear");
  // Two seals of one key differ (fresh salt), and both open.
  const again = sealKey(master, dataKey, { scheme: SealScheme.Kms, keyVersion: 3, context });
  notDeepStrictEqual(again, sealed);
  ok(equalBytes(openSealedKey(master, again, context), dataKey));
});

Deno.test("a sealed key is what FORMAT.md gives, built with WebCrypto HKDF and @noble/ciphers", async () => {
  const master = newDataKey();
  const dataKey = newDataKey();
  const context = encodeContext("main", CONTEXT);
  const sealed = sealKey(master, dataKey, { scheme: SealScheme.Kms, keyVersion: 7, context });
  const header = sealed.subarray(0, 10);
  const salt = sealed.subarray(10, 42);
  const hkdf = await crypto.subtle.importKey("raw", new Uint8Array(master), "HKDF", false, [
    "deriveBits",
  ]);
  const kek = new Uint8Array(
    await crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: salt.slice(),
        info: new TextEncoder().encode("shale sse kek v1"),
      },
      hkdf,
      256,
    ),
  );
  const aad = new Uint8Array([...header, ...context]);
  const box = chacha20poly1305(kek, new Uint8Array(12), aad).encrypt(dataKey);
  ok(equalBytes(sealed.subarray(42), box));
  // And the other way: a box sealed by @noble/ciphers opens.
  const other = new Uint8Array([...header, ...salt, ...box]);
  ok(equalBytes(openSealedKey(master, other, context), dataKey));
});

Deno.test("a sealed key does not open for another object, bucket, mode, key id or context", () => {
  const master = newDataKey();
  const sealed = sealKey(master, newDataKey(), {
    scheme: SealScheme.Kms,
    keyVersion: 1,
    context: encodeContext("main", CONTEXT),
  });
  const others: Array<[string, Uint8Array]> = [
    ["object", encodeContext("main", { ...CONTEXT, object: "2026/dog.jpg" })],
    ["bucket", encodeContext("main", { ...CONTEXT, bucket: "photos2" })],
    ["mode", encodeContext("main", { ...CONTEXT, mode: "SSE-S3" })],
    ["key id", encodeContext("other", CONTEXT)],
    ["context value", encodeContext("main", { ...CONTEXT, encryptionContext: { team: "a" } })],
    [
      "no context",
      encodeContext("main", { mode: "SSE-KMS", bucket: "photos", object: "2026/cat.jpg" }),
    ],
    // Length prefixes keep "ab"+"c" apart from "a"+"bc".
    [
      "shifted boundary",
      encodeContext("main", { ...CONTEXT, bucket: "photos2", object: "026/cat.jpg" }),
    ],
  ];
  for (const [what, context] of others) {
    throws(() => openSealedKey(master, sealed, context), DecryptionFailed, what);
  }
  throws(
    () => openSealedKey(newDataKey(), sealed, encodeContext("main", CONTEXT)),
    DecryptionFailed,
    "other master key",
  );
});

Deno.test("the encryption context binds regardless of the order of its pairs", () => {
  const a = encodeContext("k", { ...CONTEXT, encryptionContext: { x: "1", y: "2" } });
  const b = encodeContext("k", { ...CONTEXT, encryptionContext: { y: "2", x: "1" } });
  ok(equalBytes(a, b));
});

Deno.test("any changed byte of a sealed key makes it fail to open", () => {
  const master = newDataKey();
  const context = encodeContext("main", CONTEXT);
  const sealed = sealKey(master, newDataKey(), { scheme: SealScheme.Kms, keyVersion: 1, context });
  for (let i = 0; i < sealed.length; i++) {
    const tampered = sealed.slice();
    tampered[i] = (tampered[i] as number) ^ 0x01;
    throws(() => openSealedKey(master, tampered, context), DecryptionFailed, `byte ${i}`);
  }
  throws(() => openSealedKey(master, sealed.subarray(0, 89), context), DecryptionFailed);
});

Deno.test("parseEncryptionContext reads base64 JSON and refuses anything else", () => {
  deepStrictEqual(parseEncryptionContext(btoa('{"a":"1","b":"x"}')), { a: "1", b: "x" });
  for (const bad of ["not base64!", btoa("[1]"), btoa('{"a":1}'), btoa("{"), btoa("null")]) {
    throws(
      () => parseEncryptionContext(bad),
      (e) => e instanceof CryptoError && e.code === "InvalidArgument",
      bad,
    );
  }
  throws(
    () => parseEncryptionContext(btoa(JSON.stringify({ a: "x".repeat(9000) }))),
    (e) => e instanceof CryptoError && e.code === "InvalidArgument",
  );
});

Deno.test("parseServerSideEncryption knows AES256 and aws:kms only", () => {
  equal(parseServerSideEncryption("AES256"), "SSE-S3");
  equal(parseServerSideEncryption("aws:kms"), "SSE-KMS");
  throws(
    () => parseServerSideEncryption("AES128"),
    (e) => e instanceof CryptoError && e.code === "InvalidEncryptionAlgorithmError",
  );
});
