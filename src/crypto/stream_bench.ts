/**
 * Bulk cipher candidates for SSE, 64 MiB in 64 KiB packages (fed in 1 MiB chunks, as erasure
 * blocks arrive). GB/s = 64 MiB / the average time Deno.bench prints; run
 * `deno bench -A src/crypto/stream_bench.ts`. ChaCha20-Poly1305 runs through the real stream;
 * AES-256-GCM candidates run the same per-package loop without the stream (what a stream of them
 * would cost at best).
 */
import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { SSE_PACKAGE_BYTES } from "../config/limits.ts";
import { nobleChaCha20Poly1305 } from "./_noble_cipher.ts";
import type { PackageCipher } from "./_package_cipher.ts";
import {
  createDecryptStream,
  createEncryptStream,
  packageNonce,
  type StreamKey,
  TAG_BYTES,
} from "./stream.ts";

const SIZE = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const plaintext = new Uint8Array(SIZE);
randomFillSync(plaintext);
const streamKey: StreamKey = {
  key: crypto.getRandomValues(new Uint8Array(32)),
  noncePrefix: crypto.getRandomValues(new Uint8Array(7)),
};

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of stream) n += c.length;
  return n;
}

function source(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  });
}

async function encryptAll(cipher?: PackageCipher): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const options = cipher === undefined ? {} : { cipher };
  for await (const c of source(plaintext).pipeThrough(createEncryptStream(streamKey, options))) {
    parts.push(c);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ciphertext = await encryptAll();

Deno.bench("encrypt 64MiB node:crypto chacha20-poly1305 stream", {
  group: "encrypt",
  baseline: true,
}, async () => {
  await drain(source(plaintext).pipeThrough(createEncryptStream(streamKey)));
});

Deno.bench(
  "encrypt 64MiB noble chacha20-poly1305 stream",
  { group: "encrypt", n: 3, warmup: 1 },
  async () => {
    await drain(
      source(plaintext).pipeThrough(
        createEncryptStream(streamKey, { cipher: nobleChaCha20Poly1305 }),
      ),
    );
  },
);

Deno.bench("decrypt 64MiB node:crypto chacha20-poly1305 stream", {
  group: "decrypt",
  baseline: true,
}, async () => {
  await drain(source(ciphertext).pipeThrough(createDecryptStream(streamKey, { plainSize: SIZE })));
});

Deno.bench(
  "decrypt 64MiB noble chacha20-poly1305 stream",
  { group: "decrypt", n: 3, warmup: 1 },
  async () => {
    await drain(
      source(ciphertext).pipeThrough(
        createDecryptStream(streamKey, { plainSize: SIZE, cipher: nobleChaCha20Poly1305 }),
      ),
    );
  },
);

// AES-256-GCM candidates, package by package with the same nonce layout.
const aesKey = await crypto.subtle.importKey(
  "raw",
  new Uint8Array(streamKey.key),
  "AES-GCM",
  false,
  [
    "encrypt",
    "decrypt",
  ],
);
const PACKAGES = SIZE / SSE_PACKAGE_BYTES;
const nonceOf = (seq: number) =>
  new Uint8Array(packageNonce(streamKey.noncePrefix, seq, seq === PACKAGES - 1));

const webCryptoSealed: Uint8Array[] = [];
for (let seq = 0; seq < PACKAGES; seq++) {
  const pkg = plaintext.subarray(seq * SSE_PACKAGE_BYTES, (seq + 1) * SSE_PACKAGE_BYTES);
  webCryptoSealed.push(
    new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonceOf(seq) }, aesKey, pkg)),
  );
}

Deno.bench(
  "encrypt 64MiB WebCrypto aes-256-gcm packages",
  { group: "encrypt", n: 5, warmup: 1 },
  async () => {
    for (let seq = 0; seq < PACKAGES; seq++) {
      const pkg = plaintext.subarray(seq * SSE_PACKAGE_BYTES, (seq + 1) * SSE_PACKAGE_BYTES);
      await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonceOf(seq) }, aesKey, pkg);
    }
  },
);

Deno.bench(
  "decrypt 64MiB WebCrypto aes-256-gcm packages",
  { group: "decrypt", n: 5, warmup: 1 },
  async () => {
    for (let seq = 0; seq < PACKAGES; seq++) {
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonceOf(seq) },
        aesKey,
        webCryptoSealed[seq] as Uint8Array<ArrayBuffer>,
      );
    }
  },
);

Deno.bench(
  "encrypt 64MiB node:crypto aes-256-gcm packages",
  { group: "encrypt", n: 5, warmup: 1 },
  () => {
    for (let seq = 0; seq < PACKAGES; seq++) {
      const c = createCipheriv("aes-256-gcm", streamKey.key, nonceOf(seq), {
        authTagLength: TAG_BYTES,
      });
      c.update(plaintext.subarray(seq * SSE_PACKAGE_BYTES, (seq + 1) * SSE_PACKAGE_BYTES));
      c.final();
      c.getAuthTag();
    }
  },
);

Deno.bench(
  "decrypt 64MiB node:crypto aes-256-gcm packages",
  { group: "decrypt", n: 5, warmup: 1 },
  () => {
    for (let seq = 0; seq < PACKAGES; seq++) {
      const sealed = webCryptoSealed[seq] as Uint8Array;
      const d = createDecipheriv("aes-256-gcm", streamKey.key, nonceOf(seq), {
        authTagLength: TAG_BYTES,
      });
      d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      d.update(sealed.subarray(0, sealed.length - TAG_BYTES));
      d.final();
    }
  },
);

Deno.bench(
  "encrypt 64MiB noble aes-256-gcm packages",
  { group: "encrypt", n: 2, warmup: 1 },
  () => {
    for (let seq = 0; seq < PACKAGES; seq++) {
      gcm(streamKey.key, nonceOf(seq)).encrypt(
        plaintext.subarray(seq * SSE_PACKAGE_BYTES, (seq + 1) * SSE_PACKAGE_BYTES),
      );
    }
  },
);

Deno.bench(
  "decrypt 64MiB noble aes-256-gcm packages",
  { group: "decrypt", n: 2, warmup: 1 },
  () => {
    for (let seq = 0; seq < PACKAGES; seq++) {
      gcm(streamKey.key, nonceOf(seq)).decrypt(webCryptoSealed[seq] as Uint8Array);
    }
  },
);
