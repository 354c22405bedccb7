/**
 * The SSE key hierarchy (FORMAT.md "Key hierarchy"): data keys, stream keys, the context bound
 * into a sealed key, and sealing a 32-byte key under a 32-byte master or customer key.
 *
 * How this works: `sealKey` derives a one-time KEK = HKDF-SHA256(master, random salt) and seals
 * the key with ChaCha20-Poly1305 (node:crypto) under a zero nonce (the KEK is never reused),
 * authenticating the sealed key's header and the context (mode, key id, bucket, object, the
 * SSE-KMS encryption context). Opening with any other master key, header or context fails.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { SSE_ENCRYPTION_CONTEXT_BYTES_MAX } from "../config/limits.ts";
import { assert } from "../util/assert.ts";
import { concatBytes, lengthPrefixed, randomBytes, u32, utf8 } from "./_bytes.ts";
import { CryptoError, DecryptionFailed } from "./errors.ts";
import { TAG_BYTES } from "./_package_cipher.ts";
import { NONCE_PREFIX_BYTES, type StreamKey } from "./stream.ts";

export const KEY_BYTES = 32;
export const STREAM_IV_BYTES = 16;
export const SALT_BYTES = 32;
export const SEALED_KEY_BYTES = 90;
const HEADER_BYTES = 10;
const MAGIC = utf8("SHSK");
const SEALED_KEY_VERSION = 1;
const KEK_INFO = utf8("shale sse kek v1");
const STREAM_INFO = utf8("shale sse stream v1");
const PART_STREAM_INFO_V2 = utf8("shale sse stream v2");
const ZERO_NONCE = new Uint8Array(12);

export type SseMode = "SSE-S3" | "SSE-KMS" | "SSE-C";
const MODE_BYTE: Record<SseMode, number> = { "SSE-S3": 1, "SSE-KMS": 2, "SSE-C": 3 };

/** Who sealed a key: a KMS master key, an SSE-C customer key, or the key store's root key. */
export const SealScheme = { Kms: 1, Customer: 2, KeyStore: 3 } as const;
export type SealScheme = typeof SealScheme[keyof typeof SealScheme];

/** What a sealed data key is bound to; all of it must match to open the key again. */
export interface KeyContext {
  readonly mode: SseMode;
  readonly bucket: string;
  readonly object: string;
  /** SSE-KMS encryption context (x-amz-server-side-encryption-context), if any. */
  readonly encryptionContext?: Readonly<Record<string, string>>;
}

/** A fresh random 32-byte data key (one per object, or per multipart upload). */
export function newDataKey(): Uint8Array {
  return randomBytes(KEY_BYTES);
}

/** A fresh random 16-byte stream IV (one per stream: an object, or each part upload). */
export function newStreamIv(): Uint8Array {
  return randomBytes(STREAM_IV_BYTES);
}

/**
 * The key and nonce prefix of one stream: HKDF-SHA256(data key, salt = stream IV,
 * info = label || u32(part number)). Part number 0 is a single-part object. The label is
 * "shale sse stream v1", or with `partFormat: 2` (a part of an upload whose part list is MACed,
 * FORMAT.md "Part list MAC") "shale sse stream v2", so that such a part never decrypts as part
 * format 1, which has no MAC.
 */
export function deriveStreamKey(
  dataKey: Uint8Array,
  options: { iv: Uint8Array; partNumber: number; partFormat?: 1 | 2 },
): StreamKey {
  assert(dataKey.length === KEY_BYTES, `Data key is ${dataKey.length} bytes`);
  assert(options.iv.length === STREAM_IV_BYTES, `Stream IV is ${options.iv.length} bytes`);
  assert(
    Number.isInteger(options.partNumber) && options.partNumber >= 0 &&
      options.partNumber < 2 ** 32,
    `Part number "${options.partNumber}"`,
  );
  const v2 = options.partFormat === 2;
  assert(!v2 || options.partNumber > 0, "Part format 2 is for parts of multipart uploads");
  const info = concatBytes(v2 ? PART_STREAM_INFO_V2 : STREAM_INFO, u32(options.partNumber));
  const okm = new Uint8Array(
    hkdfSync("sha256", dataKey, options.iv, info, KEY_BYTES + NONCE_PREFIX_BYTES),
  );
  return { key: okm.subarray(0, KEY_BYTES), noncePrefix: okm.subarray(KEY_BYTES) };
}

/** FORMAT.md `context`: the associated data binding a sealed data key to its object. */
export function encodeContext(keyId: string, context: KeyContext): Uint8Array {
  const pairs = Object.entries(context.encryptionContext ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  );
  const encodedPairs = pairs.flatMap((
    [k, v],
  ) => [lengthPrefixed(utf8(k)), lengthPrefixed(utf8(v))]);
  return concatBytes(
    utf8("shale-sse-v1"),
    Uint8Array.of(MODE_BYTE[context.mode]),
    lengthPrefixed(utf8(keyId)),
    lengthPrefixed(utf8(context.bucket)),
    lengthPrefixed(utf8(context.object)),
    u32(pairs.length),
    ...encodedPairs,
  );
}

/** The header fields of a sealed key. */
export interface SealedKeyInfo {
  readonly version: number;
  readonly scheme: SealScheme;
  /** Version of the master key that sealed it; 0 for SSE-C. */
  readonly keyVersion: number;
}

/** Reads a sealed key's header; throws DecryptionFailed when it is not a sealed key. */
export function inspectSealedKey(sealed: Uint8Array): SealedKeyInfo {
  if (sealed.length !== SEALED_KEY_BYTES) {
    throw new DecryptionFailed(`Sealed key is ${sealed.length} bytes, not ${SEALED_KEY_BYTES}`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (sealed[i] !== MAGIC[i]) throw new DecryptionFailed("Sealed key has a bad magic");
  }
  const version = sealed[4] as number;
  if (version !== SEALED_KEY_VERSION) {
    throw new DecryptionFailed(`Sealed key version "${version}" is unknown`);
  }
  const scheme = sealed[5] as number;
  if (scheme !== 1 && scheme !== 2 && scheme !== 3) {
    throw new DecryptionFailed(`Sealed key scheme "${scheme}" is unknown`);
  }
  const keyVersion = new DataView(sealed.buffer, sealed.byteOffset).getUint32(6);
  return { version, scheme, keyVersion };
}

function deriveKek(master: Uint8Array, salt: Uint8Array): Uint8Array {
  assert(master.length === KEY_BYTES, `Master key is ${master.length} bytes`);
  return new Uint8Array(hkdfSync("sha256", master, salt, KEK_INFO, KEY_BYTES));
}

/** Seals a 32-byte key under `master` (FORMAT.md "Sealed key"); `context` is its bound data. */
export function sealKey(
  master: Uint8Array,
  plaintextKey: Uint8Array,
  options: { scheme: SealScheme; keyVersion: number; context: Uint8Array },
): Uint8Array {
  assert(plaintextKey.length === KEY_BYTES, `Key to seal is ${plaintextKey.length} bytes`);
  assert(
    Number.isInteger(options.keyVersion) && options.keyVersion >= 0 &&
      options.keyVersion < 2 ** 32,
    `Key version "${options.keyVersion}"`,
  );
  const header = concatBytes(
    MAGIC,
    Uint8Array.of(SEALED_KEY_VERSION, options.scheme),
    u32(options.keyVersion),
  );
  const salt = randomBytes(SALT_BYTES);
  const kek = deriveKek(master, salt);
  const box = sealChaCha20Poly1305(kek, concatBytes(header, options.context), plaintextKey);
  kek.fill(0);
  const sealed = concatBytes(header, salt, box);
  assert(sealed.length === SEALED_KEY_BYTES, `Sealed key is ${sealed.length} bytes`);
  return sealed;
}

/**
 * Opens a sealed key with `master` and the same context it was sealed with. Throws
 * DecryptionFailed when the key, the context or any byte of the sealed key differs.
 */
export function openSealedKey(
  master: Uint8Array,
  sealed: Uint8Array,
  context: Uint8Array,
): Uint8Array {
  inspectSealedKey(sealed);
  const header = sealed.subarray(0, HEADER_BYTES);
  const salt = sealed.subarray(HEADER_BYTES, HEADER_BYTES + SALT_BYTES);
  const box = sealed.subarray(HEADER_BYTES + SALT_BYTES);
  const kek = deriveKek(master, salt);
  try {
    return openChaCha20Poly1305(kek, concatBytes(header, context), box);
  } catch {
    throw new DecryptionFailed("Sealed key does not open with this key and context");
  } finally {
    kek.fill(0);
  }
}

// RFC 8439 ChaCha20-Poly1305 with associated data, under the zero nonce (each KEK seals once).
// node:crypto, not @noble/ciphers: the server loads node:crypto anyway, and @noble/ciphers cost
// ~10 ms of every start (issue 6); keys_test.ts checks the bytes against @noble/ciphers.

/** ciphertext || 16-byte tag. */
function sealChaCha20Poly1305(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  return concatBytes(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
}

/** The plaintext; throws when the tag does not verify. */
function openChaCha20Poly1305(key: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < TAG_BYTES) throw new DecryptionFailed("Sealed box is shorter than its tag");
  const split = sealed.length - TAG_BYTES;
  const decipher = createDecipheriv("chacha20-poly1305", key, ZERO_NONCE, {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(aad, { plaintextLength: split });
  decipher.setAuthTag(sealed.subarray(split));
  const plain = decipher.update(sealed.subarray(0, split));
  decipher.final(); // throws on a tag mismatch
  return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
}

/**
 * Parses `x-amz-server-side-encryption-context`: base64 of a JSON object of string values.
 * Errors are InvalidArgument, as AWS.
 */
export function parseEncryptionContext(header: string): Record<string, string> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(header), (c) => c.charCodeAt(0)),
    );
  } catch {
    throw new CryptoError("InvalidArgument", "The encryption context is not valid base64");
  }
  if (utf8(text).length > SSE_ENCRYPTION_CONTEXT_BYTES_MAX) {
    throw new CryptoError(
      "InvalidArgument",
      `The encryption context is longer than ${SSE_ENCRYPTION_CONTEXT_BYTES_MAX} bytes`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CryptoError("InvalidArgument", "The encryption context is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CryptoError("InvalidArgument", "The encryption context is not a JSON object");
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      throw new CryptoError(
        "InvalidArgument",
        `Encryption context value of "${k}" is not a string`,
      );
    }
    out[k] = v;
  }
  return out;
}

/**
 * Parses `x-amz-server-side-encryption`: "AES256" is SSE-S3 and "aws:kms" SSE-KMS; anything else
 * is InvalidEncryptionAlgorithmError (400), as AWS.
 */
export function parseServerSideEncryption(header: string): "SSE-S3" | "SSE-KMS" {
  if (header === "AES256") return "SSE-S3";
  if (header === "aws:kms") return "SSE-KMS";
  throw new CryptoError(
    "InvalidEncryptionAlgorithmError",
    `The encryption request you specified is not valid: "${header}"`,
  );
}
