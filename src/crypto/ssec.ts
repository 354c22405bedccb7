/**
 * SSE-C: validating the customer key headers and sealing an object's data key under the customer
 * key. The customer key and its MD5 are never stored (FORMAT.md "SSE-C: what is stored"): the
 * sealed key alone tells a right key from a wrong one.
 *
 * Error codes and wording follow AWS and MinIO: every malformed header is InvalidArgument (400);
 * a key that does not open the object is AccessDenied (403).
 */
import { createHasherSync } from "../util/checksums.ts";
import { decodeBase64Strict, equalBytes } from "./_bytes.ts";
import { CryptoError, DecryptionFailed } from "./errors.ts";
import { encodeContext, KEY_BYTES, openSealedKey, sealKey, SealScheme } from "./keys.ts";

/** The only SSE-C algorithm AWS accepts. */
export const SSE_C_ALGORITHM = "AES256";

export interface CustomerKeyHeaders {
  readonly algorithm: string | null | undefined;
  readonly key: string | null | undefined;
  readonly keyMd5: string | null | undefined;
}

/** A validated customer key: the 32 key bytes and the base64 MD5 to echo in responses. */
export interface CustomerKey {
  readonly key: Uint8Array;
  readonly keyMd5: string;
}

const PREFIX = "x-amz-server-side-encryption-customer-";
const COPY_PREFIX = "x-amz-copy-source-server-side-encryption-customer-";

/** Reads the SSE-C headers, or with `copySource` the CopyObject/UploadPartCopy source ones. */
export function customerKeyHeaders(
  headers: Headers,
  options: { copySource?: boolean } = {},
): CustomerKeyHeaders {
  const prefix = options.copySource ? COPY_PREFIX : PREFIX;
  return {
    algorithm: headers.get(`${prefix}algorithm`),
    key: headers.get(`${prefix}key`),
    keyMd5: headers.get(`${prefix}key-md5`),
  };
}

/**
 * Validates SSE-C headers. Returns undefined when none is present, the key when all three are
 * valid, and throws CryptoError("InvalidArgument") otherwise.
 */
export function parseCustomerKey(headers: CustomerKeyHeaders): CustomerKey | undefined {
  const { algorithm, key, keyMd5 } = headers;
  if (algorithm == null && key == null && keyMd5 == null) return undefined;
  if (algorithm !== SSE_C_ALGORITHM) {
    throw new CryptoError(
      "InvalidArgument",
      "Requests specifying Server Side Encryption with Customer provided keys must provide a " +
        "valid encryption algorithm.",
    );
  }
  if (key == null || key === "") {
    throw new CryptoError(
      "InvalidArgument",
      "Requests specifying Server Side Encryption with Customer provided keys must provide an " +
        "appropriate secret key.",
    );
  }
  if (keyMd5 == null || keyMd5 === "") {
    throw new CryptoError(
      "InvalidArgument",
      "Requests specifying Server Side Encryption with Customer provided keys must provide the " +
        "client calculated MD5 of the secret key.",
    );
  }
  const raw = decodeBase64Strict(key);
  if (raw === undefined || raw.length !== KEY_BYTES) {
    throw new CryptoError(
      "InvalidArgument",
      "The secret key was invalid for the specified algorithm.",
    );
  }
  const md5 = createHasherSync("MD5");
  md5.update(raw);
  const sent = decodeBase64Strict(keyMd5);
  if (sent === undefined || !equalBytes(sent, md5.digest())) {
    throw new CryptoError(
      "InvalidArgument",
      "The calculated MD5 hash of the key did not match the hash that was provided.",
    );
  }
  return { key: raw, keyMd5 };
}

/** Where an SSE-C object lives; bound into its sealed key. */
export interface CustomerKeyContext {
  readonly bucket: string;
  readonly object: string;
}

function context(where: CustomerKeyContext): Uint8Array {
  return encodeContext("", { mode: "SSE-C", bucket: where.bucket, object: where.object });
}

/** Seals an object's data key under the customer key (scheme 2, key version 0). */
export function sealWithCustomerKey(
  customer: CustomerKey,
  dataKey: Uint8Array,
  where: CustomerKeyContext,
): Uint8Array {
  return sealKey(customer.key, dataKey, {
    scheme: SealScheme.Customer,
    keyVersion: 0,
    context: context(where),
  });
}

/**
 * Opens an SSE-C object's sealed data key. A key that does not open it is AccessDenied (403), as
 * AWS answers a GET with the wrong customer key; a sealed key moved from another object fails
 * the same way (the two cannot be told apart, and neither may return data).
 */
export function openWithCustomerKey(
  customer: CustomerKey,
  sealed: Uint8Array,
  where: CustomerKeyContext,
): Uint8Array {
  try {
    return openSealedKey(customer.key, sealed, context(where));
  } catch (e) {
    if (!(e instanceof DecryptionFailed)) throw e;
    throw new CryptoError("AccessDenied", "The SSE-C key does not open the object's sealed key");
  }
}
