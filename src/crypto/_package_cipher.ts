/**
 * One package of the SSE stream sealed or opened by one ChaCha20-Poly1305 implementation. The
 * stream code is written against this interface so the benchmark and the reference test can run
 * the same framing over node:crypto (the bulk path) and @noble/ciphers (the reference, in
 * _noble_cipher.ts so that the server never loads it).
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { DecryptionFailed } from "./errors.ts";

export const TAG_BYTES = 16;

export interface PackageCipher {
  readonly name: string;
  /**
   * ciphertext || tag, as one or more fresh arrays in order (node:crypto's output is handed on
   * as it comes, without copying it into one array).
   */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array[];
  /** The plaintext of ciphertext || tag; throws DecryptionFailed when the tag does not verify. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array;
}

/** node:crypto ChaCha20-Poly1305: native code, the bulk path (see stream_bench.ts). */
export const nodeChaCha20Poly1305: PackageCipher = {
  name: "node:crypto chacha20-poly1305",
  seal(key, nonce, plaintext) {
    const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_BYTES });
    const body = cipher.update(plaintext);
    const rest = cipher.final(); // empty for a stream cipher, kept for correctness
    const tag = cipher.getAuthTag();
    const out: Uint8Array[] = [];
    for (const b of [body, rest, tag]) {
      if (b.length > 0) out.push(new Uint8Array(b.buffer, b.byteOffset, b.length));
    }
    return out;
  },
  open(key, nonce, sealed) {
    if (sealed.length < TAG_BYTES) throw new DecryptionFailed("Package is shorter than its tag");
    const split = sealed.length - TAG_BYTES;
    const decipher = createDecipheriv("chacha20-poly1305", key, nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(sealed.subarray(split));
    const body = decipher.update(sealed.subarray(0, split));
    try {
      decipher.final();
    } catch {
      // node:crypto says only "unable to authenticate data": the tag did not verify.
      throw new DecryptionFailed("Package failed authentication");
    }
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  },
};
