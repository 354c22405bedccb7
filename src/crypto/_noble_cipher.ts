/**
 * The reference ChaCha20-Poly1305 for tests and benchmarks: @noble/ciphers, audited pure
 * JavaScript. Kept out of _package_cipher.ts so that the server's module graph never loads it
 * (issue 6: start-up time).
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { DecryptionFailed } from "./errors.ts";
import { type PackageCipher, TAG_BYTES } from "./_package_cipher.ts";

/** @noble/ciphers ChaCha20-Poly1305: audited pure JavaScript, the reference implementation. */
export const nobleChaCha20Poly1305: PackageCipher = {
  name: "@noble/ciphers chacha20-poly1305",
  seal(key, nonce, plaintext) {
    return [chacha20poly1305(key, nonce).encrypt(plaintext)];
  },
  open(key, nonce, sealed) {
    if (sealed.length < TAG_BYTES) throw new DecryptionFailed("Package is shorter than its tag");
    try {
      return chacha20poly1305(key, nonce).decrypt(sealed);
    } catch {
      throw new DecryptionFailed("Package failed authentication");
    }
  },
};
