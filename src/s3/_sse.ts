/**
 * Server-side encryption at the S3 boundary: which mode a request asks for (headers, or the
 * bucket's default encryption), the body transform that encrypts a PUT or a part before the
 * object layer erasure-codes it, and the reader that decrypts only the packages a range needs.
 *
 * How this works (src/crypto/FORMAT.md "How an object records its encryption"):
 * - The object's internal metadata (`ObjectMetadata.internal`, stored as x-shale-internal-*
 *   pairs, never shown to clients) holds the mode, key id, sealed data key, SSE-KMS context and,
 *   for a single-part object, the stream IV. The object layer sees only ciphertext: its `size`
 *   and part sizes are ciphertext sizes, from which the plaintext sizes follow exactly.
 * - A multipart upload gets its data key at CreateMultipartUpload; each part is its own stream
 *   (part number bound into the stream key) whose random 16-byte IV is stored in front of the
 *   part's ciphertext, so a part uploaded twice never reuses a nonce and needs no record of its
 *   own.
 * - The part list is not covered by any part's packages, so CompleteMultipartUpload binds it to
 *   the data key (FORMAT.md "Part list MAC"): UploadPart notes each part's IV in its part record,
 *   and the completing commit stores the IVs and HMAC(data key, [part number, stored size, IV]...)
 *   in the object's record; every read checks that MAC before it returns a byte. Parts of such
 *   uploads (part format 2) derive their stream keys under another label, so the MAC cannot be
 *   removed by relabelling.
 * - The object layer hashes the plaintext (Content-MD5, x-amz-checksum-* and the SSE-S3 ETag are
 *   over what the client sent). The ETag of an SSE-C or SSE-KMS object or part is not that MD5
 *   (AWS: "not an MD5 digest of their object data"): it is the first 16 bytes of
 *   HMAC-SHA256(data key, "shale sse etag v1" || MD5), hex: stable, random-looking, and no
 *   fingerprint of the plaintext for anyone without the key.
 */
import { SSE_RESEAL_PAGE_KEYS } from "../config/limits.ts";
import { createHmac } from "node:crypto";
import {
  ciphertextRange,
  createDecryptStream,
  createEncryptStream,
  CryptoError,
  type CustomerKey,
  customerKeyHeaders,
  decryptedSize,
  DecryptionFailed,
  deriveStreamKey,
  encryptedSize,
  joinPartIvs,
  type Kms,
  newObjectKey,
  newStreamIv,
  normalizeKeyId,
  type ObjectKeyRecord,
  type ObjectKeyRequest,
  openObjectKey,
  parseCustomerKey,
  parseEncryptionContext,
  parseServerSideEncryption,
  partsMac,
  splitPartIvs,
  splitRange,
  STREAM_IV_BYTES,
  verifyPartsMac,
} from "../crypto/mod.ts";
import type {
  BodyTransform,
  ObjectInfo,
  ObjectLayer,
  ObjectMetadata,
  ObjectReader,
  SealedPart,
} from "../object/types.ts";
import type { RequestContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { logger } from "../util/logger.ts";
import { fromBase64, toBase64 } from "../util/checksums.ts";

/** What the server was started with. */
export interface SseOptions {
  /** The built-in KMS; without it SSE-S3 and SSE-KMS are 501 NotImplemented, as MinIO. */
  kms?: Kms;
  /** SHALE_SSE_C_ALLOW_HTTP=on: SSE-C keys accepted over plain HTTP from any address. */
  allowHttpCustomerKeys?: boolean;
  /** The server speaks HTTPS. */
  tls?: boolean;
}

/** Internal metadata names (ObjectMetadata.internal). */
const META = {
  version: "sse",
  mode: "sse-mode",
  keyId: "sse-key-id",
  sealedKey: "sse-sealed-key",
  context: "sse-context",
  iv: "sse-iv",
  parts: "sse-parts",
  partIvs: "sse-part-ivs",
  partsMac: "sse-parts-mac",
  bucketKeyEnabled: "sse-bucket-key-enabled",
} as const;
const FORMAT_VERSION = "1";
/**
 * `sse-parts` values: each part's stored bytes are its 16-byte stream IV then its stream. Part
 * format 2 also has the part-list MAC and derives part stream keys under its own label; part
 * format 1 (uploads created before part-list MACs) has no MAC and reads as it always did.
 */
const PARTS_FORMAT_1 = "iv-prefix";
const PARTS_FORMAT_2 = "iv-prefix-mac";

/** An encrypted object's (or upload's) record, read from its internal metadata. */
export interface SseInfo {
  record: ObjectKeyRecord;
  /** Stream IV of a single-part object. */
  iv?: Uint8Array;
  /** Parts carry their IV in front of their stream. */
  multipart: boolean;
  /** Multipart: 2 when the part list is MACed (and part stream keys use the v2 label). */
  partFormat: 1 | 2;
  /** Part format 2, once CompleteMultipartUpload recorded them: the parts' IVs, concatenated. */
  partIvs?: Uint8Array;
  /** Part format 2, once CompleteMultipartUpload recorded it: the part-list MAC. */
  partsMac?: Uint8Array;
  /**
   * SSE-KMS written with an S3 Bucket Key asked for (x-amz-server-side-encryption-bucket-key-enabled
   * or the bucket's BucketKeyEnabled). Recorded and echoed only: every object has its own data key
   * whatever it says, so it changes nothing cryptographically (README).
   */
  bucketKeyEnabled: boolean;
}

/** What a write asks for: the data key's request and, for SSE-KMS, the S3 Bucket Key flag. */
export type EncryptionRequest = ObjectKeyRequest & { readonly bucketKeyEnabled?: boolean };

const BUCKET_KEY_HEADER = "x-amz-server-side-encryption-bucket-key-enabled";

/** x-amz-server-side-encryption-bucket-key-enabled: true or false (any case), else 400. */
function bucketKeyHeaderOf(headers: Headers): boolean | undefined {
  const value = headers.get(BUCKET_KEY_HEADER);
  if (value === null) return undefined;
  const v = value.trim().toLowerCase();
  if (v === "true" || v === "false") return v === "true";
  throw new S3Error("InvalidArgument", {
    message: `${BUCKET_KEY_HEADER} must be true or false`,
    extra: { ArgumentName: BUCKET_KEY_HEADER, ArgumentValue: value },
  });
}

const b64 = toBase64; // (not String.fromCharCode(...b): 10,000 part IVs are 160,000 arguments)
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** Translates crypto errors into S3 errors; DecryptionFailed becomes InternalError (logged). */
export function sseError(e: unknown): unknown {
  if (e instanceof CryptoError) {
    switch (e.code) {
      case "AccessDenied":
        return new S3Error("AccessDenied", { message: "Access Denied." });
      case "KMS.NotFoundException":
        return new S3Error("KMS.NotFoundException", { message: e.message });
      case "InvalidEncryptionAlgorithmError":
        return new S3Error("InvalidEncryptionAlgorithmError", { message: e.message });
      case "InvalidRequest":
        return new S3Error("InvalidRequest", { message: e.message });
      default:
        return new S3Error("InvalidArgument", { message: e.message });
    }
  }
  return e;
}

async function guarded<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw sseError(e);
  }
}

function isLoopback(ip: string | undefined): boolean {
  if (ip === undefined) return false;
  return ip === "::1" || ip.startsWith("127.") || ip.startsWith("::ffff:127.");
}

/** SSE-C keys travel only over TLS, as AWS; loopback and SHALE_SSE_C_ALLOW_HTTP=on excepted. */
function checkCustomerKeyTransport(ctx: RequestContext): void {
  const sse = ctx.options.sse;
  if (sse?.tls || sse?.allowHttpCustomerKeys || isLoopback(ctx.sourceIp)) return;
  throw new S3Error("InvalidRequest", {
    message: "Requests specifying Server Side Encryption with Customer provided keys must be " +
      "made over a secure connection.",
  });
}

/** The SSE-C key of the request (or with `copySource`, of the copy source), validated. */
export async function customerKeyOf(
  ctx: RequestContext,
  options: { copySource?: boolean; headers?: Headers } = {},
): Promise<CustomerKey | undefined> {
  const headers = options.headers ?? ctx.headers;
  const key = await guarded(() => parseCustomerKey(customerKeyHeaders(headers, options)));
  if (key !== undefined) checkCustomerKeyTransport(ctx);
  return key;
}

function kmsOf(ctx: RequestContext): Kms {
  const kms = ctx.options.sse?.kms;
  if (kms === undefined) {
    throw new S3Error("NotImplemented", {
      message: "Server side encryption specified but KMS is not configured",
    });
  }
  return kms;
}

/** A bucket's default encryption as stored (JSON of this shape, bucket config "encryption"). */
export interface BucketEncryption {
  algorithm: "AES256" | "aws:kms";
  keyId?: string;
  /** Rule/BucketKeyEnabled as given (AWS applies it to SSE-KMS writes). */
  bucketKeyEnabled?: boolean;
}

export async function bucketEncryptionOf(
  ctx: RequestContext,
): Promise<BucketEncryption | undefined> {
  const doc = await ctx.objects.getBucketConfig(ctx.bucket, "encryption");
  return doc === undefined ? undefined : JSON.parse(doc) as BucketEncryption;
}

/**
 * The encryption a write asks for: SSE-C headers, x-amz-server-side-encryption (with the SSE-KMS
 * key id and context), or else the bucket's default encryption; undefined for none. An SSE-KMS
 * write takes x-amz-server-side-encryption-bucket-key-enabled, or else the bucket's
 * BucketKeyEnabled (as AWS: the object-level setting overrides the bucket's); other modes ignore it.
 */
export async function requestedEncryption(
  ctx: RequestContext,
  options: {
    useBucketDefault?: boolean;
    /** Where the SSE fields are, when not the request's headers (PostObject's form). */
    headers?: Headers;
  } = {},
): Promise<EncryptionRequest | undefined> {
  const headers = options.headers ?? ctx.headers;
  const bucketKey = bucketKeyHeaderOf(headers);
  const customerKey = await customerKeyOf(ctx, { headers });
  const header = headers.get("x-amz-server-side-encryption");
  const keyIdHeader = headers.get("x-amz-server-side-encryption-aws-kms-key-id");
  const contextHeader = headers.get("x-amz-server-side-encryption-context");
  if (customerKey !== undefined) {
    if (header !== null) {
      throw new S3Error("InvalidArgument", {
        message: "Server side encryption specified with both SSE-C and SSE-S3 headers",
      });
    }
    return { mode: "SSE-C", customerKey };
  }
  if (header === null) {
    if (keyIdHeader !== null || contextHeader !== null) {
      throw new S3Error("InvalidArgument", {
        message: "Server side encryption specified with SSE-KMS parameters but without aws:kms",
      });
    }
    if (options.useBucketDefault === false) return undefined;
    const def = await bucketEncryptionOf(ctx);
    if (def === undefined) return undefined;
    kmsOf(ctx);
    if (def.algorithm === "AES256") return { mode: "SSE-S3" };
    const bucketKeyEnabled = bucketKey ?? def.bucketKeyEnabled;
    return {
      mode: "SSE-KMS",
      ...(def.keyId !== undefined ? { keyId: def.keyId } : {}),
      ...(bucketKeyEnabled !== undefined ? { bucketKeyEnabled } : {}),
    };
  }
  const mode = await guarded(() => parseServerSideEncryption(header));
  const kms = kmsOf(ctx);
  if (mode === "SSE-S3") {
    if (keyIdHeader !== null || contextHeader !== null) {
      throw new S3Error("InvalidArgument", {
        message: "SSE-KMS parameters are only allowed with x-amz-server-side-encryption: aws:kms",
      });
    }
    return { mode: "SSE-S3" };
  }
  const keyId = keyIdHeader === null || keyIdHeader === ""
    ? undefined
    : normalizeKeyId(keyIdHeader);
  if (keyId !== undefined && !kms.hasKey(keyId)) {
    throw new S3Error("KMS.NotFoundException", { message: `Key '${keyIdHeader}' does not exist` });
  }
  const encryptionContext = contextHeader === null
    ? undefined
    : await guarded(() => parseEncryptionContext(contextHeader));
  const bucketKeyEnabled = bucketKey ??
    (options.useBucketDefault === false
      ? undefined
      : (await bucketEncryptionOf(ctx))?.bucketKeyEnabled);
  return {
    mode: "SSE-KMS",
    ...(keyId !== undefined ? { keyId } : {}),
    ...(encryptionContext !== undefined ? { encryptionContext } : {}),
    ...(bucketKeyEnabled !== undefined ? { bucketKeyEnabled } : {}),
  };
}

/** A new data key for `request` and the internal metadata recording it (without a stream IV). */
export async function newEncryption(
  ctx: RequestContext,
  request: EncryptionRequest,
  where: { bucket: string; key: string; multipart?: boolean },
): Promise<{ dataKey: Uint8Array; sse: SseInfo; internal: Record<string, string> }> {
  const kms = request.mode === "SSE-C" ? ctx.options.sse?.kms : kmsOf(ctx);
  const { dataKey, record } = await guarded(() =>
    newObjectKey(request, {
      bucket: where.bucket,
      object: where.key,
      ...(kms !== undefined ? { kms } : {}),
    })
  );
  const internal: Record<string, string> = {
    [META.version]: FORMAT_VERSION,
    [META.mode]: record.mode,
    [META.sealedKey]: b64(record.sealedKey),
  };
  if (record.keyId !== "") internal[META.keyId] = record.keyId;
  if (record.encryptionContext !== undefined) {
    internal[META.context] = b64(
      new TextEncoder().encode(JSON.stringify(record.encryptionContext)),
    );
  }
  if (where.multipart) internal[META.parts] = PARTS_FORMAT_2;
  const bucketKeyEnabled = request.mode === "SSE-KMS" && request.bucketKeyEnabled === true;
  if (bucketKeyEnabled) internal[META.bucketKeyEnabled] = "true";
  return {
    dataKey,
    sse: { record, multipart: where.multipart === true, partFormat: 2, bucketKeyEnabled },
    internal,
  };
}

/** The encryption recorded in an object's or upload's metadata, or undefined for none. */
export function sseOf(metadata: ObjectMetadata): SseInfo | undefined {
  const m = metadata.internal;
  if (m === undefined || m[META.version] === undefined) return undefined;
  if (m[META.version] !== FORMAT_VERSION) {
    throw new Error(`Unknown SSE metadata version "${m[META.version]}"`);
  }
  const mode = m[META.mode];
  if (mode !== "SSE-S3" && mode !== "SSE-KMS" && mode !== "SSE-C") {
    throw new Error(`Unknown SSE mode "${mode}"`);
  }
  const context = m[META.context];
  const record: ObjectKeyRecord = {
    version: 1,
    mode,
    keyId: m[META.keyId] ?? "",
    sealedKey: unb64(m[META.sealedKey] ?? ""),
    ...(context !== undefined
      ? { encryptionContext: JSON.parse(new TextDecoder().decode(unb64(context))) }
      : {}),
  };
  const iv = m[META.iv];
  const parts = m[META.parts];
  if (parts !== undefined && parts !== PARTS_FORMAT_1 && parts !== PARTS_FORMAT_2) {
    throw new Error(`Unknown SSE part format "${parts}"`);
  }
  const partIvs = m[META.partIvs];
  const mac = m[META.partsMac];
  return {
    record,
    multipart: parts !== undefined,
    partFormat: parts === PARTS_FORMAT_1 ? 1 : 2,
    bucketKeyEnabled: m[META.bucketKeyEnabled] === "true",
    ...(iv !== undefined ? { iv: unb64(iv) } : {}),
    ...(partIvs !== undefined ? { partIvs: unb64(partIvs) } : {}),
    ...(mac !== undefined ? { partsMac: unb64(mac) } : {}),
  };
}

/** Opens the data key of an encrypted object (SSE-C: with the request's customer key). */
export function openDataKey(
  ctx: RequestContext,
  sse: SseInfo,
  where: { bucket: string; key: string; customerKey: CustomerKey | undefined },
): Promise<Uint8Array> {
  const kms = ctx.options.sse?.kms;
  if (sse.record.mode !== "SSE-C" && kms === undefined) {
    throw new S3Error("NotImplemented", {
      message: "Server side encryption specified but KMS is not configured",
    });
  }
  return guarded(() =>
    openObjectKey(sse.record, {
      bucket: where.bucket,
      object: where.key,
      customerKey: where.customerKey,
      ...(kms !== undefined ? { kms } : {}),
    })
  );
}

/** SSE-C and SSE-KMS ETags: not the MD5 (module comment). */
function keyedEtag(dataKey: Uint8Array): (md5: Uint8Array) => string {
  const key = dataKey.slice();
  return (md5) =>
    createHmac("sha256", key).update("shale sse etag v1").update(md5).digest("hex").slice(0, 32);
}

/**
 * The transform that encrypts a single-part object's body; records its stream IV in `internal`.
 * `size` is the plaintext size or -1.
 */
export function objectTransform(
  sse: SseInfo,
  dataKey: Uint8Array,
  internal: Record<string, string>,
  size: number,
): BodyTransform {
  const iv = newStreamIv();
  internal[META.iv] = b64(iv);
  const stream = createEncryptStream(deriveStreamKey(dataKey, { iv, partNumber: 0 }));
  return {
    stream,
    storedSize: size < 0 ? -1 : encryptedSize(size),
    ...(sse.record.mode === "SSE-S3" ? {} : { etag: keyedEtag(dataKey) }),
  };
}

/** The transform that encrypts one part: its fresh stream IV, then its stream. */
export function partTransform(
  sse: SseInfo,
  dataKey: Uint8Array,
  partNumber: number,
  size: number,
): BodyTransform {
  const iv = newStreamIv();
  const encrypt = createEncryptStream(
    deriveStreamKey(dataKey, { iv, partNumber, partFormat: sse.partFormat }),
  );
  const prefix = new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      controller.enqueue(iv);
    },
  });
  return {
    stream: { writable: encrypt.writable, readable: encrypt.readable.pipeThrough(prefix) },
    storedSize: size < 0 ? -1 : STREAM_IV_BYTES + encryptedSize(size),
    ...(sse.record.mode === "SSE-S3" ? {} : { etag: keyedEtag(dataKey) }),
    // Kept in the part's record until completion, which MACs the part list with it.
    ...(sse.partFormat === 2 ? { note: b64(iv) } : {}),
  };
}

/** Plaintext size of a part stored as IV || stream. */
export function partPlainSize(storedSize: number): number {
  return decryptedSize(storedSize - STREAM_IV_BYTES);
}

/** Plaintext size of an object (ciphertext sizes in, as the object layer reports them). */
export function plainSize(info: ObjectInfo): number {
  const sse = sseOf(info.metadata);
  if (sse === undefined) return info.size;
  if (!sse.multipart) return decryptedSize(info.size);
  return info.parts.reduce((n, p) => n + partPlainSize(p.size), 0);
}

/** The object as clients see it: plaintext sizes for the object and its parts. */
export function plainInfo(info: ObjectInfo): ObjectInfo {
  const sse = sseOf(info.metadata);
  if (sse === undefined) return info;
  return {
    ...info,
    size: plainSize(info),
    parts: sse.multipart
      ? info.parts.map((p) => ({ ...p, size: partPlainSize(p.size) }))
      : info.parts,
  };
}

async function readExactly(stream: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let filled = 0;
  for await (const chunk of stream) {
    if (filled + chunk.length > n) throw new DecryptionFailed("Part IV read returned too much");
    out.set(chunk, filled);
    filled += chunk.length;
  }
  if (filled !== n) throw new DecryptionFailed("Part IV read returned too little");
  return out;
}

/** One piece of a concatenation: its streams are open; `begin` gives its bytes. */
interface Piece {
  begin(): Promise<ReadableStream<Uint8Array>>;
  /** Closes its streams without reading them. */
  cancel(reason: unknown): Promise<void>;
}

/**
 * The pieces' streams one after another. Piece i + 1 is opened when piece i starts, so the
 * reader (whose lock lasts while any of its streams is open) stays locked to the end, and at
 * most two pieces are open at once. When a piece fails, the next one is closed too: an open
 * stream would hold the object's read lock for ever (and every write of the key behind it).
 */
function concatStreams(count: number, open: (i: number) => Piece): ReadableStream<Uint8Array> {
  let current: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let next = 0;
  let pending: Piece | undefined = count > 0 ? open(0) : undefined;
  const closeAll = async (reason: unknown) => {
    const [c, p] = [current, pending];
    current = undefined;
    pending = undefined;
    await c?.cancel(reason).catch(() => {});
    await p?.cancel(reason).catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        while (true) {
          if (current === undefined) {
            const piece = pending;
            if (piece === undefined) {
              controller.close();
              return;
            }
            next++;
            pending = next < count ? open(next) : undefined;
            current = (await piece.begin()).getReader();
          }
          const { done, value } = await current.read();
          if (done) {
            current = undefined;
            continue;
          }
          controller.enqueue(value);
          return;
        }
      } catch (e) {
        await closeAll(e);
        throw e;
      }
    },
    cancel: closeAll,
  }, { highWaterMark: 0 });
}

/**
 * The IVs of a part-format-2 object's parts once its part list (numbers, stored sizes, IVs, in
 * order) matched its MAC; throws DecryptionFailed otherwise, and when the MAC is missing from an
 * SSE-S3 or SSE-KMS object (only an SSE-C completion without the key stores none).
 */
export function authenticatedPartIvs(
  info: ObjectInfo,
  sse: SseInfo,
  dataKey: Uint8Array,
): Uint8Array[] {
  // An SSE-C upload completed without its key (AWS does not ask for it) has IVs but no MAC: each
  // part still authenticates its own packages (FORMAT.md "Part list MAC").
  const unmacced = sse.record.mode === "SSE-C" && sse.partIvs !== undefined;
  if (sse.partIvs === undefined || (sse.partsMac === undefined && !unmacced)) {
    throw new DecryptionFailed("The multipart object has no part-list MAC");
  }
  const ivs = splitPartIvs(sse.partIvs);
  if (ivs.length !== info.parts.length || info.parts.length === 0) {
    throw new DecryptionFailed(
      `The object lists ${info.parts.length} parts and ${ivs.length} part IVs`,
    );
  }
  if (sse.partsMac === undefined) return ivs;
  verifyPartsMac(
    dataKey,
    info.parts.map((p, i) => ({ partNumber: p.partNumber, storedSize: p.size, iv: ivs[i]! })),
    sse.partsMac,
  );
  return ivs;
}

/**
 * Plaintext bytes [offset, offset + length) of an encrypted object: only the packages the range
 * touches are read and decrypted. `info` is the object layer's (ciphertext sizes). A part-format-2
 * object's part list is checked against its MAC first (`partIvs`: already checked).
 */
export function decryptRange(
  reader: ObjectReader,
  sse: SseInfo,
  dataKey: Uint8Array,
  range: { offset: number; length: number },
  options: { partIvs?: Uint8Array[] } = {},
): ReadableStream<Uint8Array> {
  const info = reader.info;
  if (!sse.multipart) {
    const size = decryptedSize(info.size);
    if (sse.iv === undefined) throw new DecryptionFailed("Encrypted object has no stream IV");
    const key = deriveStreamKey(dataKey, { iv: sse.iv, partNumber: 0 });
    if (range.length === 0) return reader.stream(0, 0);
    const span = ciphertextRange(size, range);
    return reader.stream(span.offset, span.length).pipeThrough(
      createDecryptStream(key, { plainSize: size, range }),
    );
  }
  const parts = info.parts;
  const partIvs = sse.partFormat === 2
    ? options.partIvs ?? authenticatedPartIvs(info, sse, dataKey)
    : undefined;
  const plainSizes = parts.map((p) => partPlainSize(p.size));
  const starts: number[] = [];
  let at = 0;
  for (const p of parts) {
    starts.push(at);
    at += p.size;
  }
  if (range.length === 0) return reader.stream(0, 0);
  const pieces = splitRange(plainSizes, range);
  return concatStreams(pieces.length, (i) => {
    const piece = pieces[i]!;
    const part = parts[piece.part]!;
    const start = starts[piece.part]!;
    const plain = plainSizes[piece.part]!;
    const span = ciphertextRange(plain, piece);
    const data = reader.stream(start + STREAM_IV_BYTES + span.offset, span.length);
    const decrypt = (iv: Uint8Array, partFormat: 1 | 2) =>
      data.pipeThrough(
        createDecryptStream(
          deriveStreamKey(dataKey, { iv, partNumber: part.partNumber, partFormat }),
          { plainSize: plain, range: piece },
        ),
      );
    const iv = partIvs?.[piece.part];
    if (iv !== undefined) {
      return {
        begin: () => Promise.resolve(decrypt(iv, 2)),
        cancel: (reason) => data.cancel(reason),
      };
    }
    // Part format 1: the IV is the part's first 16 bytes.
    const ivStream = reader.stream(start, STREAM_IV_BYTES);
    return {
      async begin() {
        let iv: Uint8Array;
        try {
          iv = await readExactly(ivStream, STREAM_IV_BYTES);
        } catch (e) {
          await data.cancel(e).catch(() => {});
          throw e;
        }
        return decrypt(iv, 1);
      },
      async cancel(reason) {
        await ivStream.cancel(reason).catch(() => {});
        await data.cancel(reason);
      },
    };
  });
}

/** Response headers that name the encryption, as AWS. */
export function setSseHeaders(
  headers: Headers,
  sse: SseInfo | ObjectKeyRecord | undefined,
  customerKey?: CustomerKey,
): void {
  if (sse === undefined) return;
  const record = "record" in sse ? sse.record : sse;
  if (record.mode === "SSE-C") {
    headers.set("x-amz-server-side-encryption-customer-algorithm", "AES256");
    if (customerKey !== undefined) {
      headers.set("x-amz-server-side-encryption-customer-key-md5", customerKey.keyMd5);
    }
    return;
  }
  headers.set("x-amz-server-side-encryption", record.mode === "SSE-S3" ? "AES256" : "aws:kms");
  if (record.mode === "SSE-KMS") {
    // MinIO answers with `arn:aws:kms:<key name>`.
    headers.set("x-amz-server-side-encryption-aws-kms-key-id", `arn:aws:kms:${record.keyId}`);
    if (record.encryptionContext !== undefined) {
      headers.set(
        "x-amz-server-side-encryption-context",
        b64(new TextEncoder().encode(JSON.stringify(record.encryptionContext))),
      );
    }
    // AWS sends it only when true.
    if ("record" in sse && sse.bucketKeyEnabled) headers.set(BUCKET_KEY_HEADER, "true");
  }
}

/**
 * The plaintext view of an opened object for reading or copying: `info` with plaintext sizes,
 * and `stream` over plaintext offsets. The SSE-C key comes from the request's headers, or with
 * `copySource` from the x-amz-copy-source-server-side-encryption-customer-* ones.
 */
export async function plaintextReader(
  ctx: RequestContext,
  reader: ObjectReader,
  where: { bucket: string; key: string; copySource?: boolean },
): Promise<{
  info: ObjectInfo;
  sse: SseInfo | undefined;
  customerKey: CustomerKey | undefined;
  stream: (offset: number, length: number) => ReadableStream<Uint8Array>;
}> {
  const sse = sseOf(reader.info.metadata);
  const customerKey = await customerKeyOf(ctx, { copySource: where.copySource === true });
  if (sse === undefined) {
    if (customerKey !== undefined) {
      throw new S3Error("InvalidRequest", {
        message: "The encryption parameters are not applicable to this object.",
      });
    }
    return {
      info: reader.info,
      sse,
      customerKey,
      stream: (offset, length) => reader.stream(offset, length),
    };
  }
  const dataKey = await openDataKey(ctx, sse, {
    bucket: where.bucket,
    key: where.key,
    customerKey,
  });
  const logged = { requestId: ctx.requestId, bucket: where.bucket, key: where.key };
  let partIvs: Uint8Array[] | undefined;
  if (sse.multipart && sse.partFormat === 2) {
    // Before any header or byte: the sizes HEAD shows come from the part list too.
    try {
      partIvs = authenticatedPartIvs(reader.info, sse, dataKey);
    } catch (e) {
      logDecryptionFailure(e, logged);
      throw e;
    }
  }
  return {
    info: plainInfo(reader.info),
    sse,
    customerKey,
    stream: (offset, length) =>
      loggedFailure(
        decryptRange(reader, sse, dataKey, { offset, length }, partIvs ? { partIvs } : {}),
        logged,
      ),
  };
}

function logDecryptionFailure(
  e: unknown,
  where: { requestId: string; bucket: string; key: string },
): void {
  logger.error("An encrypted object failed to decrypt", {
    ...where,
    error: e instanceof Error ? e.message : String(e),
  });
}

/**
 * The stream, with a failure logged before it reaches the client (who sees a cut body): bytes
 * that do not authenticate mean tampering or corruption beyond what erasure coding repaired.
 */
function loggedFailure(
  stream: ReadableStream<Uint8Array>,
  where: { requestId: string; bucket: string; key: string },
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        logDecryptionFailure(e, where);
        controller.error(e);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * CompleteMultipartUpload's seal for a part-format-2 upload (FORMAT.md "Part list MAC"): the parts'
 * IVs come from their records (UploadPart noted them), so the IVs and the MAC are committed with
 * the object, in the same record write. Without `dataKey` (an SSE-C completion that did not send
 * the key) only the IVs are stored.
 */
export function sealPartList(
  dataKey: Uint8Array | undefined,
): (parts: SealedPart[]) => Record<string, string> {
  return (parts) => {
    const ivs = parts.map((p) => {
      const iv = fromBase64(p.note);
      if (iv?.length !== STREAM_IV_BYTES) {
        throw new S3Error("InvalidPart", {
          message: `Part ${p.partNumber} has no record of its encryption: upload it again.`,
        });
      }
      return iv;
    });
    const sealed: Record<string, string> = { [META.partIvs]: b64(joinPartIvs(ivs)) };
    if (dataKey !== undefined) {
      sealed[META.partsMac] = b64(partsMac(
        dataKey,
        parts.map((p, i) => ({ partNumber: p.partNumber, storedSize: p.size, iv: ivs[i]! })),
      ));
    }
    return sealed;
  };
}

/** Metadata without the source's encryption record (a copy gets its own). */
export function withoutEncryption(metadata: ObjectMetadata): ObjectMetadata {
  const { internal: _, ...rest } = metadata;
  return { ...rest, user: { ...metadata.user } };
}

/**
 * After `kms.rotateKey(keyId)`: every SSE-S3/SSE-KMS object sealed under an older version of
 * `keyId` gets its data key sealed under the current version, in its internal metadata only (the
 * data is not rewritten). An object overwritten meanwhile is skipped (it has a new key already).
 * Uploads in progress keep their older version (still readable). Returns how many were re-sealed.
 */
export async function resealObjectKeys(
  objects: ObjectLayer,
  kms: Kms,
  keyId: string,
): Promise<{ resealed: number; failed: number }> {
  let resealed = 0;
  let failed = 0;
  for (const bucket of await objects.listBuckets()) {
    let after = "";
    for (;;) {
      const page = await objects.listObjects(bucket.name, {
        prefix: "",
        delimiter: "",
        after,
        maxKeys: SSE_RESEAL_PAGE_KEYS,
      });
      for (const o of page.objects) {
        const sse = sseOf(o.metadata);
        const record = sse?.record;
        if (record === undefined || record.mode === "SSE-C" || record.keyId !== keyId) continue;
        if (kms.isCurrent(keyId, record.sealedKey)) continue;
        try {
          const sealed = await kms.resealDataKey(keyId, record.sealedKey, {
            mode: record.mode,
            bucket: bucket.name,
            object: o.key,
            ...(record.encryptionContext !== undefined
              ? { encryptionContext: record.encryptionContext }
              : {}),
          });
          const internal = { ...o.metadata.internal, [META.sealedKey]: b64(sealed) };
          const done = await objects.putObjectInternal(bucket.name, o.key, internal, {
            etag: o.etag,
            internal: o.metadata.internal,
          });
          if (done !== undefined) resealed++;
        } catch {
          failed++;
        }
      }
      if (!page.isTruncated || page.nextAfter === undefined) break;
      after = page.nextAfter;
    }
  }
  return { resealed, failed };
}

/**
 * Checks that a request may see an object's metadata as AWS does for reads: an SSE-C object needs
 * its key (400 without, 403 with another), SSE-C headers on any other object are 400.
 */
export async function checkReadKey(ctx: RequestContext, info: ObjectInfo): Promise<void> {
  const sse = sseOf(info.metadata);
  const customerKey = await customerKeyOf(ctx);
  if (sse === undefined) {
    if (customerKey !== undefined) {
      throw new S3Error("InvalidRequest", {
        message: "The encryption parameters are not applicable to this object.",
      });
    }
    return;
  }
  if (sse.record.mode !== "SSE-C") return;
  const dataKey = await openDataKey(ctx, sse, { bucket: info.bucket, key: info.key, customerKey });
  dataKey.fill(0);
}
