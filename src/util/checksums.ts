/**
 * Streaming hashers for every checksum S3 speaks, each on its fastest implementation here:
 * node:crypto (native) for MD5, SHA-1 and SHA-256; hash-wasm for CRC32, CRC32C and CRC64NVME.
 * Digests are raw big-endian bytes; S3 shows them base64-encoded (`toBase64`).
 */
import { createHash } from "node:crypto";
import { lazy } from "./lazy.ts";

// Loaded on the first CRC checksum: its CommonJS build costs start-up time (issue 6).
const hashWasm = lazy(() => import("hash-wasm"));

export type HashAlgorithm = "MD5" | "CRC32" | "CRC32C" | "CRC64NVME" | "SHA1" | "SHA256";

export interface Hasher {
  update(data: Uint8Array): void;
  /** Raw digest bytes; the hasher may not be used afterwards. */
  digest(): Uint8Array;
}

/** Reflected polynomials (as hash-wasm and zlib take them). */
const CRC32_POLY = 0xedb88320;
const CRC32C_POLY = 0x82f63b78;
const CRC64NVME_POLY = 0x9a6c9329ac4bc9b5n;

const NODE_NAMES: Partial<Record<HashAlgorithm, string>> = {
  MD5: "md5",
  SHA1: "sha1",
  SHA256: "sha256",
};

/** Digest length in bytes. */
export const DIGEST_BYTES: Record<HashAlgorithm, number> = {
  MD5: 16,
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

export async function createHasher(alg: HashAlgorithm): Promise<Hasher> {
  const nodeName = NODE_NAMES[alg];
  if (nodeName !== undefined) return nodeHasher(nodeName);
  const { createCRC32, createCRC64 } = await hashWasm();
  const inner = alg === "CRC32"
    ? await createCRC32(CRC32_POLY)
    : alg === "CRC32C"
    ? await createCRC32(CRC32C_POLY)
    : await createCRC64(CRC64NVME_POLY.toString(16));
  inner.init();
  return {
    update: (data) => void inner.update(data),
    digest: () => inner.digest("binary"),
  };
}

/** The node:crypto algorithms, available without awaiting. */
export function createHasherSync(alg: "MD5" | "SHA1" | "SHA256"): Hasher {
  return nodeHasher(NODE_NAMES[alg] as string);
}

function nodeHasher(name: string): Hasher {
  const h = createHash(name);
  return {
    update: (data) => void h.update(data),
    digest: () => new Uint8Array(h.digest()),
  };
}

/** One-shot digest. */
export async function digestOf(alg: HashAlgorithm, data: Uint8Array): Promise<Uint8Array> {
  const h = await createHasher(alg);
  h.update(data);
  return h.digest();
}

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] as number);
  return btoa(s);
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] as number).toString(16).padStart(2, "0");
  return s;
}

/** Decodes base64; returns undefined when the text is not valid base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  try {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/**
 * The CRC of A||B from crc(A), crc(B) and B's length, without rereading the data (zlib's
 * crc32_combine, generalised to 64 bits): used for FULL_OBJECT checksums of multipart uploads.
 */
export function combineCrc(
  alg: "CRC32" | "CRC32C" | "CRC64NVME",
  crcA: Uint8Array,
  crcB: Uint8Array,
  lengthB: number,
): Uint8Array {
  const width = alg === "CRC64NVME" ? 64 : 32;
  const poly = alg === "CRC32"
    ? BigInt(CRC32_POLY)
    : alg === "CRC32C"
    ? BigInt(CRC32C_POLY)
    : CRC64NVME_POLY;
  const a = bytesToBigInt(crcA);
  const b = bytesToBigInt(crcB);
  return bigIntToBytes(crcCombine(a, b, lengthB, poly, width), width / 8);
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const byte of bytes) v = (v << 8n) | BigInt(byte);
  return v;
}

function bigIntToBytes(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function gf2MatrixTimes(mat: bigint[], vec: bigint): bigint {
  let sum = 0n;
  let i = 0;
  while (vec !== 0n) {
    if (vec & 1n) sum ^= mat[i] as bigint;
    vec >>= 1n;
    i++;
  }
  return sum;
}

function gf2MatrixSquare(mat: bigint[]): bigint[] {
  return mat.map((row) => gf2MatrixTimes(mat, row));
}

function crcCombine(crc1: bigint, crc2: bigint, len2: number, poly: bigint, width: number): bigint {
  if (len2 <= 0) return crc1;
  // odd: the operator for one zero bit; even: for two zero bits.
  let odd: bigint[] = [poly];
  let row = 1n;
  for (let n = 1; n < width; n++) {
    odd.push(row);
    row <<= 1n;
  }
  let even = gf2MatrixSquare(odd);
  odd = gf2MatrixSquare(even);
  let len = BigInt(len2);
  do {
    even = gf2MatrixSquare(odd);
    if (len & 1n) crc1 = gf2MatrixTimes(even, crc1);
    len >>= 1n;
    if (len === 0n) break;
    odd = gf2MatrixSquare(even);
    if (len & 1n) crc1 = gf2MatrixTimes(odd, crc1);
    len >>= 1n;
  } while (len !== 0n);
  return crc1 ^ crc2;
}
