/** Small byte helpers private to the crypto layer. */
import { randomFillSync } from "node:crypto";
import { toBase64 } from "../util/checksums.ts";
import { concatBytes } from "../util/bytes.ts";
export { concatBytes };

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** `u32(len(bytes)) bytes`: a length-prefixed byte string (FORMAT.md `lp`). */
export function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  return concatBytes(u32(bytes.length), bytes);
}

/** Cryptographically random bytes of any length (Web Crypto caps one call at 64 KiB). */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  randomFillSync(out);
  return out;
}

/** Compares without an early exit, so timing does not tell where two secrets first differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Strict base64: only canonical encodings decode (no whitespace, padding as btoa writes it). */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  if (toBase64(out) !== text) return undefined;
  return out;
}
