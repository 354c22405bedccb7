/** Conversions between stored records and the contract's shapes, and body hashing. */
import type { PartRecord, RawChecksums, VersionRecord } from "../storage/mod.ts";
import { MD5_OFFLOAD_MIN_BYTES } from "../config/limits.ts";
import { createHasher, type Hasher, toBase64, toHex } from "../util/checksums.ts";
import type { Md5Offload, OffloadedMd5 } from "./md5_offload.ts";
import { EntityTooLarge, IncompleteBody } from "./errors.ts";
import type {
  BodyTransform,
  ChecksumAlgorithm,
  ChecksumSet,
  ChecksumType,
  ObjectInfo,
  ObjectMetadata,
  PartInfo,
} from "./types.ts";

const STANDARD_HEADERS: Array<[keyof Omit<ObjectMetadata, "user" | "internal">, string]> = [
  ["contentType", "content-type"],
  ["contentEncoding", "content-encoding"],
  ["contentDisposition", "content-disposition"],
  ["contentLanguage", "content-language"],
  ["cacheControl", "cache-control"],
  ["expires", "expires"],
];
const USER_PREFIX = "x-amz-meta-";
const INTERNAL_PREFIX = "x-shale-internal-";

export function metadataToPairs(m: ObjectMetadata): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [field, header] of STANDARD_HEADERS) {
    const v = m[field];
    if (v !== undefined) out.push([header, v]);
  }
  for (const [k, v] of Object.entries(m.user)) out.push([USER_PREFIX + k, v]);
  for (const [k, v] of Object.entries(m.internal ?? {})) out.push([INTERNAL_PREFIX + k, v]);
  return out;
}

export function pairsToMetadata(pairs: Array<[string, string]>): ObjectMetadata {
  const m: ObjectMetadata = { user: {} };
  for (const [name, value] of pairs) {
    if (name.startsWith(USER_PREFIX)) {
      m.user[name.slice(USER_PREFIX.length)] = value;
      continue;
    }
    if (name.startsWith(INTERNAL_PREFIX)) {
      (m.internal ??= {})[name.slice(INTERNAL_PREFIX.length)] = value;
      continue;
    }
    const std = STANDARD_HEADERS.find(([, h]) => h === name);
    if (std !== undefined) m[std[0]] = value;
  }
  return m;
}

/** S3's view: base64 digests; composite checksums carry `-N` (parts). */
export function checksumsToSet(
  raw: RawChecksums,
  type: ChecksumType | undefined,
  partCount: number,
): ChecksumSet {
  const out: ChecksumSet = {};
  for (const [alg, digest] of Object.entries(raw) as Array<[ChecksumAlgorithm, Uint8Array]>) {
    out[alg] = toBase64(digest) + (type === "COMPOSITE" ? `-${partCount}` : "");
  }
  return out;
}

export function partToInfo(p: PartRecord): PartInfo {
  return {
    partNumber: p.number,
    etag: p.etag,
    size: p.size,
    lastModified: new Date(p.modTimeMs),
    checksums: checksumsToSet(p.checksums, undefined, 0),
  };
}

export function versionToInfo(bucket: string, key: string, v: VersionRecord): ObjectInfo {
  const info: ObjectInfo = {
    bucket,
    key,
    versionId: v.versionId,
    size: v.size,
    etag: v.etag,
    lastModified: new Date(v.modTimeMs),
    storageClass: v.storageClass,
    metadata: pairsToMetadata(v.metadata),
    checksums: checksumsToSet(v.checksums, v.checksumType, v.parts.length),
    parts: v.parts.length > 1 || v.etag.includes("-") ? v.parts.map(partToInfo) : [],
    tags: v.tags.map(([a, b]) => [a, b]),
  };
  if (v.checksumType !== undefined) info.checksumType = v.checksumType;
  else if (Object.keys(v.checksums).length > 0) info.checksumType = "FULL_OBJECT";
  return info;
}

export function unquoteEtag(etag: string): string {
  const t = etag.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/**
 * MD5 plus the requested checksums over a body, as it streams. With `offload` and a body of
 * MD5_OFFLOAD_MIN_BYTES or more (or of unknown size), the MD5 runs on a worker thread.
 */
export class BodyHasher {
  private constructor(
    readonly md5: Hasher | OffloadedMd5,
    readonly others: Array<[ChecksumAlgorithm, Hasher]>,
  ) {}
  static async create(
    algs: ChecksumAlgorithm[] = [],
    offload?: { md5: Md5Offload; size: number },
  ): Promise<BodyHasher> {
    const unique = [...new Set(algs)];
    const others = await Promise.all(
      unique.map(async (a) => [a, await createHasher(a)] as [ChecksumAlgorithm, Hasher]),
    );
    const md5 = offload !== undefined && (offload.size < 0 || offload.size >= MD5_OFFLOAD_MIN_BYTES)
      ? offload.md5.hasher()
      : await createHasher("MD5");
    return new BodyHasher(md5, others);
  }
  /** A promise when the body must wait for the MD5 worker. */
  update(chunk: Uint8Array): void | Promise<void> {
    for (const [, h] of this.others) h.update(chunk);
    return this.md5.update(chunk);
  }
  async finish(): Promise<{ md5: Uint8Array; raw: RawChecksums }> {
    const raw: RawChecksums = {};
    for (const [a, h] of this.others) raw[a] = h.digest();
    return { md5: await this.md5.digest(), raw };
  }
  /** Frees an unfinished offloaded hash (a body that failed); a no-op once finished. */
  dispose(): void {
    if ("dispose" in this.md5) this.md5.dispose();
  }
}

export function md5Hex(md5: Uint8Array): string {
  return toHex(md5);
}

/**
 * The body's chunks through `transform` (SSE encryption) when given; `counted.bytes` ends as the
 * number of bytes that went in (the body's own size, which `verify` must see).
 */
export async function* transformedBody(
  chunks: AsyncGenerator<Uint8Array>,
  transform: BodyTransform | undefined,
  counted: { bytes: number },
): AsyncGenerator<Uint8Array> {
  if (transform === undefined) {
    for await (const c of chunks) {
      counted.bytes += c.length;
      yield c;
    }
    return;
  }
  const source = ReadableStream.from((async function* () {
    for await (const c of chunks) {
      counted.bytes += c.length;
      yield c;
    }
  })());
  yield* source.pipeThrough(transform.stream);
}

/**
 * The body's chunks, hashed as they pass, checked against the declared size (-1: unknown) and a
 * maximum. Chunks are yielded as they arrive (no buffering here).
 */
export async function* meteredBody(
  body: ReadableStream<Uint8Array>,
  opts: { size: number; sizeMax: number; hasher: BodyHasher; bucket: string; key: string },
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      total += value.length;
      if (opts.size >= 0 && total > opts.size) {
        throw new IncompleteBody(
          `Body is longer than the declared ${opts.size} bytes`,
          opts.bucket,
          opts.key,
        );
      }
      if (total > opts.sizeMax) {
        throw new EntityTooLarge(
          `Body exceeds the maximum of ${opts.sizeMax} bytes`,
          opts.bucket,
          opts.key,
        );
      }
      const wait = opts.hasher.update(value);
      if (wait !== undefined) await wait;
      yield value;
    }
    if (opts.size >= 0 && total < opts.size) {
      throw new IncompleteBody(
        `Body ended after ${total} of the declared ${opts.size} bytes`,
        opts.bucket,
        opts.key,
      );
    }
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
}
