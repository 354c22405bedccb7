/**
 * One door for the object layer to an object's data key, whatever the SSE mode: SSE-S3 and
 * SSE-KMS go through the KMS, SSE-C through the customer key. What it returns to store
 * (`ObjectKeyRecord`) is all the object's metadata needs besides the per-stream IVs and sizes.
 */
import { assert } from "../util/assert.ts";
import { CryptoError } from "./errors.ts";
import { type KeyContext, newDataKey, type SseMode } from "./keys.ts";
import type { Kms } from "./kms.ts";
import { type CustomerKey, openWithCustomerKey, sealWithCustomerKey } from "./ssec.ts";

/** The object's encryption as stored in its metadata (FORMAT.md "Ciphertext stream"). */
export interface ObjectKeyRecord {
  /** Format version of the sealed key and streams: 1. */
  readonly version: 1;
  readonly mode: SseMode;
  /** KMS key name; empty for SSE-C. */
  readonly keyId: string;
  /** A FORMAT.md sealed key, 90 bytes. */
  readonly sealedKey: Uint8Array;
  /** SSE-KMS encryption context, stored so reads can rebuild the sealing context. */
  readonly encryptionContext?: Readonly<Record<string, string>>;
}

/** What the request asked for. */
export type ObjectKeyRequest =
  | { readonly mode: "SSE-S3" }
  | {
    readonly mode: "SSE-KMS";
    /** Defaults to the KMS's default key. */
    readonly keyId?: string;
    readonly encryptionContext?: Readonly<Record<string, string>>;
  }
  | { readonly mode: "SSE-C"; readonly customerKey: CustomerKey };

export interface ObjectKeyOptions {
  readonly bucket: string;
  readonly object: string;
  /** Needed for SSE-S3 and SSE-KMS. */
  readonly kms?: Kms;
}

function kmsOf(options: ObjectKeyOptions): Kms {
  if (options.kms === undefined) {
    throw new CryptoError(
      "InvalidRequest",
      "Server-side encryption needs a KMS: none is configured",
    );
  }
  return options.kms;
}

function kmsContext(record: {
  mode: SseMode;
  encryptionContext?: Readonly<Record<string, string>> | undefined;
}, options: ObjectKeyOptions): KeyContext {
  const base = { mode: record.mode, bucket: options.bucket, object: options.object };
  return record.encryptionContext === undefined
    ? base
    : { ...base, encryptionContext: record.encryptionContext };
}

/** A new data key for an object (or a multipart upload) and the record to store with it. */
export async function newObjectKey(
  request: ObjectKeyRequest,
  options: ObjectKeyOptions,
): Promise<{ dataKey: Uint8Array; record: ObjectKeyRecord }> {
  if (request.mode === "SSE-C") {
    const dataKey = newDataKey();
    const sealedKey = sealWithCustomerKey(request.customerKey, dataKey, options);
    return { dataKey, record: { version: 1, mode: "SSE-C", keyId: "", sealedKey } };
  }
  const kms = kmsOf(options);
  const keyId = request.mode === "SSE-KMS" ? request.keyId ?? kms.defaultKeyId : kms.defaultKeyId;
  const encryptionContext = request.mode === "SSE-KMS" ? request.encryptionContext : undefined;
  const context = kmsContext({ mode: request.mode, encryptionContext }, options);
  const { plaintext, sealed } = await kms.generateDataKey(keyId, context);
  const record: ObjectKeyRecord = encryptionContext === undefined
    ? { version: 1, mode: request.mode, keyId, sealedKey: sealed }
    : { version: 1, mode: request.mode, keyId, sealedKey: sealed, encryptionContext };
  return { dataKey: plaintext, record };
}

/**
 * The data key of a stored object. SSE-C objects need the customer key (InvalidRequest without
 * it, AccessDenied when it is the wrong one); a customer key for an object that is not SSE-C is
 * InvalidRequest, as AWS ("The encryption parameters are not applicable to this object").
 */
export async function openObjectKey(
  record: ObjectKeyRecord,
  options: ObjectKeyOptions & { readonly customerKey?: CustomerKey | undefined },
): Promise<Uint8Array> {
  assert(record.version === 1, `Object key record version "${record.version}"`);
  if (record.mode === "SSE-C") {
    if (options.customerKey === undefined) {
      throw new CryptoError(
        "InvalidRequest",
        "The object was stored using a form of Server Side Encryption. The correct parameters " +
          "must be provided to retrieve the object.",
      );
    }
    return openWithCustomerKey(options.customerKey, record.sealedKey, options);
  }
  if (options.customerKey !== undefined) {
    throw new CryptoError(
      "InvalidRequest",
      "The encryption parameters are not applicable to this object.",
    );
  }
  return await kmsOf(options).decryptDataKey(
    record.keyId,
    record.sealedKey,
    kmsContext(record, options),
  );
}

/**
 * The record for the same data key at another name (CopyObject to a new key without
 * re-encrypting, or a rename): unsealed with the source context, sealed with the destination's.
 * For SSE-C, `customerKey` opens the source and `destinationCustomerKey` (default: the same)
 * seals the copy.
 */
export async function resealObjectKey(
  record: ObjectKeyRecord,
  options: ObjectKeyOptions & {
    readonly customerKey?: CustomerKey;
    readonly destination: { readonly bucket: string; readonly object: string };
    readonly destinationCustomerKey?: CustomerKey;
  },
): Promise<ObjectKeyRecord> {
  const dataKey = await openObjectKey(record, options);
  const where = {
    ...options,
    bucket: options.destination.bucket,
    object: options.destination.object,
  };
  try {
    if (record.mode === "SSE-C") {
      const customer = options.destinationCustomerKey ?? options.customerKey as CustomerKey;
      return { ...record, sealedKey: sealWithCustomerKey(customer, dataKey, where) };
    }
    const kms = kmsOf(options);
    // The existing data key sealed for the new context (generateDataKey would make a new one).
    const sealedKey = await kms.sealDataKey(record.keyId, dataKey, kmsContext(record, where));
    return { ...record, sealedKey };
  } finally {
    dataKey.fill(0);
  }
}
