/**
 * The chunked AEAD stream of SSE (FORMAT.md "Ciphertext stream").
 *
 * How this works: plaintext is cut into packages of SSE_PACKAGE_BYTES; package `seq` is sealed
 * with ChaCha20-Poly1305 under the stream key and the nonce `prefix(7) || u32(seq) || flag`,
 * where flag is 1 only on the last package (the STREAM construction). A package's tag therefore
 * authenticates its contents, its position and whether it ends the stream: flipped bits,
 * reordering, truncation at a package boundary and packages spliced from other streams all fail
 * to open. Each side holds at most one package, so memory per stream is constant.
 *
 * Encrypt cannot know a full package is the last until it sees more input or the end, so it
 * holds one package back. Decrypt knows the layout in advance when given the plaintext size
 * (always, from the object's metadata), which also lets it start at any package for a range read.
 */
import { SSE_PACKAGE_BYTES } from "../config/limits.ts";
import { assert } from "../util/assert.ts";
import { DecryptionFailed } from "./errors.ts";
import { nodeChaCha20Poly1305, type PackageCipher, TAG_BYTES } from "./_package_cipher.ts";

export { TAG_BYTES };
/** Bytes of the random per-stream nonce prefix. */
export const NONCE_PREFIX_BYTES = 7;
export const NONCE_BYTES = 12;
/** Ciphertext bytes of every package but the last. */
export const PACKAGE_CIPHERTEXT_BYTES = SSE_PACKAGE_BYTES + TAG_BYTES;
/** seq is a u32 in the nonce: 2^32 packages of 64 KiB (256 TiB) is far above OBJECT_SIZE_BYTES_MAX. */
const PACKAGES_MAX = 2 ** 32;

/** What encrypts one stream: a 32-byte ChaCha20-Poly1305 key and a 7-byte nonce prefix. */
export interface StreamKey {
  readonly key: Uint8Array;
  readonly noncePrefix: Uint8Array;
}

/** The nonce of package `seq`: prefix(7) || u32(seq) || flag (1 on the last package). */
export function packageNonce(noncePrefix: Uint8Array, seq: number, final: boolean): Uint8Array {
  assert(noncePrefix.length === NONCE_PREFIX_BYTES, `Nonce prefix is ${noncePrefix.length} bytes`);
  assert(Number.isInteger(seq) && seq >= 0 && seq < PACKAGES_MAX, `Package seq "${seq}"`);
  const nonce = new Uint8Array(NONCE_BYTES);
  nonce.set(noncePrefix);
  new DataView(nonce.buffer).setUint32(NONCE_PREFIX_BYTES, seq);
  nonce[NONCE_BYTES - 1] = final ? 1 : 0;
  return nonce;
}

function checkStreamKey(streamKey: StreamKey): void {
  assert(streamKey.key.length === 32, `Stream key is ${streamKey.key.length} bytes`);
  assert(
    streamKey.noncePrefix.length === NONCE_PREFIX_BYTES,
    `Nonce prefix is ${streamKey.noncePrefix.length} bytes`,
  );
}

function checkSize(n: number, what: string): void {
  assert(Number.isSafeInteger(n) && n >= 0, `${what} "${n}" is not a size`);
}

/** Packages in the stream of `plainSize` bytes; an empty stream still has its final package. */
export function packageCount(plainSize: number): number {
  checkSize(plainSize, "Plaintext size");
  return Math.max(1, Math.ceil(plainSize / SSE_PACKAGE_BYTES));
}

/** Ciphertext bytes of a stream of `plainSize` plaintext bytes. */
export function encryptedSize(plainSize: number): number {
  return plainSize + TAG_BYTES * packageCount(plainSize);
}

/**
 * Plaintext bytes of a stream of `cipherSize` ciphertext bytes (inverse of encryptedSize).
 * Throws DecryptionFailed for a size no stream has (a truncated or padded stream).
 */
export function decryptedSize(cipherSize: number): number {
  checkSize(cipherSize, "Ciphertext size");
  const full = Math.floor(cipherSize / PACKAGE_CIPHERTEXT_BYTES);
  const rest = cipherSize % PACKAGE_CIPHERTEXT_BYTES;
  if (rest === 0 && full > 0) return full * SSE_PACKAGE_BYTES;
  // A last partial package holds its tag and, unless it is the only package, at least one byte.
  if (rest >= TAG_BYTES + (full > 0 ? 1 : 0)) return full * SSE_PACKAGE_BYTES + rest - TAG_BYTES;
  throw new DecryptionFailed(`Ciphertext size "${cipherSize}" is not the size of any stream`);
}

export interface PlainRange {
  /** First plaintext byte. */
  readonly offset: number;
  /** Plaintext bytes, at least 1. */
  readonly length: number;
}

/** Which ciphertext bytes a plaintext range needs, and how to trim what they decrypt to. */
export interface CiphertextRange {
  /** First ciphertext byte to read (a package boundary). */
  readonly offset: number;
  /** Ciphertext bytes to read. */
  readonly length: number;
  /** seq of the first package read. */
  readonly firstPackage: number;
  /** seq of the last package read. */
  readonly lastPackage: number;
  /** Plaintext bytes to drop from the first package. */
  readonly skipBytes: number;
}

/** The ciphertext to read for `range` of a stream of `plainSize` bytes (FORMAT.md "Sizes"). */
export function ciphertextRange(plainSize: number, range: PlainRange): CiphertextRange {
  checkSize(plainSize, "Plaintext size");
  checkSize(range.offset, "Range offset");
  assert(Number.isSafeInteger(range.length) && range.length >= 1, `Range length "${range.length}"`);
  assert(
    range.offset + range.length <= plainSize,
    `Range "${range.offset}+${range.length}" is past the end "${plainSize}"`,
  );
  const firstPackage = Math.floor(range.offset / SSE_PACKAGE_BYTES);
  const lastPackage = Math.floor((range.offset + range.length - 1) / SSE_PACKAGE_BYTES);
  const offset = firstPackage * PACKAGE_CIPHERTEXT_BYTES;
  const end = Math.min(encryptedSize(plainSize), (lastPackage + 1) * PACKAGE_CIPHERTEXT_BYTES);
  return {
    offset,
    length: end - offset,
    firstPackage,
    lastPackage,
    skipBytes: range.offset - firstPackage * SSE_PACKAGE_BYTES,
  };
}

/** A plaintext range within one part of a multipart object. */
export interface PartRange extends PlainRange {
  /** Index into the part list given to splitRange. */
  readonly part: number;
}

/**
 * Splits a range of an object made of consecutive parts (each its own stream) into per-part
 * plaintext ranges, in order, skipping parts the range does not touch.
 */
export function splitRange(partSizes: readonly number[], range: PlainRange): PartRange[] {
  let start = 0;
  const out: PartRange[] = [];
  const end = range.offset + range.length;
  for (let part = 0; part < partSizes.length && start < end; part++) {
    const size = partSizes[part] as number;
    checkSize(size, "Part size");
    const from = Math.max(range.offset, start);
    const to = Math.min(end, start + size);
    if (from < to) out.push({ part, offset: from - start, length: to - from });
    start += size;
  }
  assert(end <= start, `Range "${range.offset}+${range.length}" is past the end "${start}"`);
  return out;
}

export interface StreamOptions {
  /** Package cipher; node:crypto unless a test or benchmark asks for another. */
  cipher?: PackageCipher;
}

/**
 * Encrypts a plaintext stream into the ciphertext stream. Emits each package (as its ciphertext
 * and tag chunks) as soon as it is known not to be the last; memory is one package.
 */
export function createEncryptStream(
  streamKey: StreamKey,
  options: StreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  checkStreamKey(streamKey);
  const cipher = options.cipher ?? nodeChaCha20Poly1305;
  const { key, noncePrefix } = streamKey;
  const pending = new Uint8Array(SSE_PACKAGE_BYTES);
  let filled = 0;
  let seq = 0;
  const seal = (
    plaintext: Uint8Array,
    final: boolean,
    controller: TransformStreamDefaultController<Uint8Array>,
  ) => {
    for (const piece of cipher.seal(key, packageNonce(noncePrefix, seq++, final), plaintext)) {
      controller.enqueue(piece);
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      let at = 0;
      while (at < chunk.length) {
        if (filled === SSE_PACKAGE_BYTES) {
          // More input exists, so the held package is not the last.
          seal(pending, false, controller);
          filled = 0;
        }
        if (filled === 0 && chunk.length - at > SSE_PACKAGE_BYTES) {
          // A whole package with input after it: seal it in place, no copy.
          seal(chunk.subarray(at, at + SSE_PACKAGE_BYTES), false, controller);
          at += SSE_PACKAGE_BYTES;
          continue;
        }
        const n = Math.min(SSE_PACKAGE_BYTES - filled, chunk.length - at);
        pending.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
      }
    },
    flush(controller) {
      seal(pending.subarray(0, filled), true, controller);
    },
  });
}

export interface DecryptOptions extends StreamOptions {
  /**
   * Plaintext size of the whole stream. When given, the stream must be exactly the ciphertext
   * of that size (or of `range`); when not, the last package is whatever comes last.
   */
  plainSize?: number;
  /**
   * Decrypt only this plaintext range; the input must then start at `ciphertextRange(...)`'s
   * offset and hold its length. Requires plainSize.
   */
  range?: PlainRange;
}

/**
 * Decrypts a ciphertext stream (or the packages of a range) into plaintext. Nothing of a package
 * is emitted before its tag verifies; any failure errors the stream with DecryptionFailed.
 */
export function createDecryptStream(
  streamKey: StreamKey,
  options: DecryptOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  checkStreamKey(streamKey);
  const cipher = options.cipher ?? nodeChaCha20Poly1305;
  const { key, noncePrefix } = streamKey;
  const { plainSize, range } = options;
  assert(range === undefined || plainSize !== undefined, "A range read needs the plaintext size");

  // With a known size: the seq of the last package of the stream and of this read.
  const lastOfStream = plainSize === undefined ? undefined : packageCount(plainSize) - 1;
  const span = range === undefined ? undefined : ciphertextRange(plainSize as number, range);
  const lastToRead = span?.lastPackage ?? lastOfStream;
  let seq = span?.firstPackage ?? 0;
  let skip = span?.skipBytes ?? 0;
  let remaining = range?.length ?? plainSize ?? Number.POSITIVE_INFINITY;

  /** Ciphertext bytes of package `seq` when the layout is known. */
  const expectedLength = (s: number): number => {
    if (s < (lastOfStream as number)) return PACKAGE_CIPHERTEXT_BYTES;
    return (plainSize as number) - s * SSE_PACKAGE_BYTES + TAG_BYTES;
  };

  const held = new Uint8Array(PACKAGE_CIPHERTEXT_BYTES);
  let filled = 0;

  const open = (
    sealed: Uint8Array,
    final: boolean,
    controller: TransformStreamDefaultController<Uint8Array>,
  ) => {
    const plaintext = cipher.open(key, packageNonce(noncePrefix, seq, final), sealed);
    seq++;
    const from = Math.min(skip, plaintext.length);
    skip -= from;
    const to = Math.min(plaintext.length, from + remaining);
    remaining -= to - from;
    // Both ciphers return a fresh array (never a view of `held`), so a view of it is safe to emit.
    if (to > from) controller.enqueue(plaintext.subarray(from, to));
  };

  return new TransformStream({
    transform(chunk, controller) {
      let at = 0;
      while (at < chunk.length) {
        if (lastToRead !== undefined) {
          if (seq > lastToRead) {
            throw new DecryptionFailed("Ciphertext continues past the last package");
          }
          const want = expectedLength(seq);
          if (filled === 0 && chunk.length - at >= want) {
            // The whole package is in this chunk: open it in place, no copy.
            open(chunk.subarray(at, at + want), seq === lastOfStream, controller);
            at += want;
            continue;
          }
          const n = Math.min(want - filled, chunk.length - at);
          held.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === want) {
            open(held.subarray(0, want), seq === lastOfStream, controller);
            filled = 0;
          }
          continue;
        }
        // Unknown size: a full package is opened only once more input shows it is not the last.
        if (filled === PACKAGE_CIPHERTEXT_BYTES) {
          open(held, false, controller);
          filled = 0;
        }
        if (filled === 0 && chunk.length - at > PACKAGE_CIPHERTEXT_BYTES) {
          open(chunk.subarray(at, at + PACKAGE_CIPHERTEXT_BYTES), false, controller);
          at += PACKAGE_CIPHERTEXT_BYTES;
          continue;
        }
        const n = Math.min(PACKAGE_CIPHERTEXT_BYTES - filled, chunk.length - at);
        held.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
      }
    },
    flush(controller) {
      if (lastToRead !== undefined) {
        if (seq <= lastToRead || filled > 0) {
          throw new DecryptionFailed(`Ciphertext ends before package "${seq}" is complete`);
        }
        assert(remaining === 0, `Range has "${remaining}" bytes left after its last package`);
        return;
      }
      if (filled < TAG_BYTES) throw new DecryptionFailed("Ciphertext ends inside a package");
      open(held.subarray(0, filled), true, controller);
    },
  });
}
