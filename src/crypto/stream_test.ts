import { equal, ok, rejects, throws } from "node:assert/strict";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { SSE_PACKAGE_BYTES } from "../config/limits.ts";
import { DecryptionFailed } from "./errors.ts";
import { nobleChaCha20Poly1305 } from "./_noble_cipher.ts";
import {
  ciphertextRange,
  createDecryptStream,
  createEncryptStream,
  decryptedSize,
  encryptedSize,
  PACKAGE_CIPHERTEXT_BYTES,
  packageCount,
  splitRange,
  type StreamKey,
  TAG_BYTES,
} from "./stream.ts";
import { equalBytes, pipeBytes, randomData, seededRandom } from "./_testing.ts";

const P = SSE_PACKAGE_BYTES;
const MiB = 1024 * 1024;

function streamKeyFrom(rand: { int(max: number): number }): StreamKey {
  return { key: randomData(rand, 32), noncePrefix: randomData(rand, 7) };
}

/** The expected stream, built package by package with @noble/ciphers and a hand-made nonce. */
function nobleStream(streamKey: StreamKey, plaintext: Uint8Array): Uint8Array {
  const count = Math.max(1, Math.ceil(plaintext.length / P));
  const out = new Uint8Array(plaintext.length + count * TAG_BYTES);
  for (let seq = 0; seq < count; seq++) {
    const nonce = new Uint8Array(12);
    nonce.set(streamKey.noncePrefix, 0);
    nonce[7] = (seq >>> 24) & 0xff;
    nonce[8] = (seq >>> 16) & 0xff;
    nonce[9] = (seq >>> 8) & 0xff;
    nonce[10] = seq & 0xff;
    nonce[11] = seq === count - 1 ? 1 : 0;
    const sealed = chacha20poly1305(streamKey.key, nonce).encrypt(
      plaintext.subarray(seq * P, (seq + 1) * P),
    );
    out.set(sealed, seq * PACKAGE_CIPHERTEXT_BYTES);
  }
  return out;
}

const EDGE_SIZES = [
  0,
  1,
  15,
  16,
  17,
  P - 1,
  P,
  P + 1,
  2 * P - 1,
  2 * P,
  2 * P + 1,
  3 * MiB + 12_345,
];

Deno.test("the node:crypto stream produces exactly the bytes @noble/ciphers produces", async () => {
  const rand = seededRandom("noble reference");
  const sizes = [...EDGE_SIZES, 5 * MiB, 1 + rand.int(6 * MiB), rand.int(3 * P)];
  for (const size of sizes) {
    const streamKey = streamKeyFrom(rand);
    const plaintext = randomData(rand, size);
    const expected = nobleStream(streamKey, plaintext);
    const actual = await pipeBytes(plaintext, createEncryptStream(streamKey), { rand });
    equal(actual.length, expected.length, `size ${size}`);
    ok(equalBytes(actual, expected), `size ${size}: node:crypto and noble bytes differ`);
    // And the node:crypto decryptor opens what noble sealed.
    const opened = await pipeBytes(expected, createDecryptStream(streamKey), { rand });
    ok(equalBytes(opened, plaintext), `size ${size}: decrypt of noble bytes`);
  }
});

Deno.test("the noble package cipher runs the same framing to the same bytes", async () => {
  const rand = seededRandom("noble framing");
  for (const size of [0, P + 1, 3 * P]) {
    const streamKey = streamKeyFrom(rand);
    const plaintext = randomData(rand, size);
    const viaNoble = await pipeBytes(
      plaintext,
      createEncryptStream(streamKey, { cipher: nobleChaCha20Poly1305 }),
    );
    ok(equalBytes(viaNoble, nobleStream(streamKey, plaintext)), `size ${size}`);
    const back = await pipeBytes(
      viaNoble,
      createDecryptStream(streamKey, { cipher: nobleChaCha20Poly1305, plainSize: size }),
    );
    ok(equalBytes(back, plaintext), `size ${size}`);
  }
});

Deno.test("encrypt then decrypt returns the plaintext for any size and any chunking", async () => {
  const rand = seededRandom("round trip");
  for (let trial = 0; trial < 30; trial++) {
    const size = trial < EDGE_SIZES.length - 1 ? EDGE_SIZES[trial] as number : rand.int(5 * P);
    const streamKey = streamKeyFrom(rand);
    const plaintext = randomData(rand, size);
    const chunkMax = 1 + rand.int(3 * P);
    const ciphertext = await pipeBytes(plaintext, createEncryptStream(streamKey), {
      rand,
      chunkMax,
    });
    equal(ciphertext.length, encryptedSize(size), `encryptedSize(${size})`);
    equal(decryptedSize(ciphertext.length), size, `decryptedSize of ${ciphertext.length}`);
    for (const plainSize of [undefined, size]) {
      const options = plainSize === undefined ? {} : { plainSize };
      const back = await pipeBytes(ciphertext, createDecryptStream(streamKey, options), {
        rand,
        chunkMax,
      });
      ok(equalBytes(back, plaintext), `size ${size}, plainSize ${plainSize}`);
    }
  }
});

Deno.test("encryptedSize and decryptedSize are inverses and reject impossible sizes", () => {
  equal(encryptedSize(0), 16);
  equal(encryptedSize(1), 17);
  equal(encryptedSize(P), P + 16);
  equal(encryptedSize(P + 1), P + 1 + 32);
  equal(packageCount(0), 1);
  equal(packageCount(P), 1);
  equal(packageCount(P + 1), 2);
  for (let n = 0; n < 3 * P + 40; n += n < 40 ? 1 : 997) {
    equal(decryptedSize(encryptedSize(n)), n);
  }
  for (const n of [P - 1, P, P + 1, 5 * 1024 ** 4]) equal(decryptedSize(encryptedSize(n)), n);
  for (const bad of [0, 1, 15, PACKAGE_CIPHERTEXT_BYTES + 1, PACKAGE_CIPHERTEXT_BYTES + 16]) {
    throws(() => decryptedSize(bad), DecryptionFailed, `size ${bad}`);
  }
});

async function encryptRandom(rand: ReturnType<typeof seededRandom>, size: number) {
  const streamKey = streamKeyFrom(rand);
  const plaintext = randomData(rand, size);
  const ciphertext = await pipeBytes(plaintext, createEncryptStream(streamKey));
  return { streamKey, plaintext, ciphertext };
}

/** Decrypts with and without the plaintext size; both must fail with DecryptionFailed. */
async function assertRejected(streamKey: StreamKey, ciphertext: Uint8Array, what: string) {
  await rejects(pipeBytes(ciphertext, createDecryptStream(streamKey)), DecryptionFailed, what);
  let plainSize: number | undefined;
  try {
    plainSize = decryptedSize(ciphertext.length);
  } catch {
    plainSize = undefined; // the length alone gives it away
  }
  if (plainSize !== undefined) {
    // An attacker who also rewrote the stored size is still caught by the tags.
    await rejects(
      pipeBytes(ciphertext, createDecryptStream(streamKey, { plainSize })),
      DecryptionFailed,
      `${what} (with plainSize)`,
    );
  }
}

Deno.test("a flipped bit anywhere in the ciphertext is detected", async () => {
  const rand = seededRandom("flip");
  for (const size of [0, 1, P, 3 * P + 7]) {
    const { streamKey, ciphertext } = await encryptRandom(rand, size);
    for (let trial = 0; trial < 4; trial++) {
      const tampered = ciphertext.slice();
      const at = rand.int(tampered.length);
      tampered[at] = (tampered[at] as number) ^ (1 << rand.int(8));
      await assertRejected(streamKey, tampered, `size ${size}, bit flipped at ${at}`);
    }
  }
});

Deno.test("dropping the last package is detected, even with the size rewritten", async () => {
  const rand = seededRandom("truncate");
  for (const size of [P + 1, 2 * P, 3 * P + 100]) {
    const { streamKey, ciphertext } = await encryptRandom(rand, size);
    const count = packageCount(size);
    const truncated = ciphertext.slice(0, (count - 1) * PACKAGE_CIPHERTEXT_BYTES);
    await assertRejected(streamKey, truncated, `size ${size} without its last package`);
    // Cut inside a package, and cut to nothing.
    await assertRejected(streamKey, ciphertext.slice(0, ciphertext.length - 1), "cut by 1 byte");
    await assertRejected(streamKey, new Uint8Array(0), "empty");
    // With the true size, a short stream is refused by its length.
    await rejects(
      pipeBytes(truncated, createDecryptStream(streamKey, { plainSize: size })),
      DecryptionFailed,
    );
  }
});

Deno.test("swapping two packages is detected", async () => {
  const rand = seededRandom("swap");
  const { streamKey, ciphertext } = await encryptRandom(rand, 4 * P);
  const swapped = ciphertext.slice();
  const C = PACKAGE_CIPHERTEXT_BYTES;
  swapped.set(ciphertext.subarray(C, 2 * C), 2 * C);
  swapped.set(ciphertext.subarray(2 * C, 3 * C), C);
  await assertRejected(streamKey, swapped, "packages 1 and 2 swapped");
});

Deno.test("a package spliced in from another object is detected", async () => {
  const rand = seededRandom("splice");
  const a = await encryptRandom(rand, 3 * P);
  const b = await encryptRandom(rand, 3 * P);
  const C = PACKAGE_CIPHERTEXT_BYTES;
  const spliced = a.ciphertext.slice();
  spliced.set(b.ciphertext.subarray(C, 2 * C), C);
  await assertRejected(a.streamKey, spliced, "package 1 of b in a");
  // The same key with another nonce prefix (another part of one upload) is another stream too.
  const otherPrefix = { key: a.streamKey.key, noncePrefix: randomData(rand, 7) };
  const c = await pipeBytes(randomData(rand, 3 * P), createEncryptStream(otherPrefix));
  const spliced2 = a.ciphertext.slice();
  spliced2.set(c.subarray(0, C), 0);
  await assertRejected(a.streamKey, spliced2, "package 0 of a sibling stream in a");
});

Deno.test("extra bytes after the last package are detected", async () => {
  const rand = seededRandom("append");
  const { streamKey, ciphertext, plaintext } = await encryptRandom(rand, P + 5);
  const longer = new Uint8Array(ciphertext.length + 1);
  longer.set(ciphertext);
  await rejects(
    pipeBytes(longer, createDecryptStream(streamKey, { plainSize: plaintext.length })),
    DecryptionFailed,
  );
  await assertRejected(streamKey, longer, "one byte appended");
});

Deno.test("nothing of a package that fails authentication is emitted", async () => {
  const rand = seededRandom("no unauthenticated output");
  const { streamKey, ciphertext, plaintext } = await encryptRandom(rand, 3 * P);
  const tampered = ciphertext.slice();
  const at = 2 * PACKAGE_CIPHERTEXT_BYTES + 10; // inside package 2
  tampered[at] = (tampered[at] as number) ^ 1;
  const emitted: Uint8Array[] = [];
  const reader = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(tampered);
      c.close();
    },
  }).pipeThrough(createDecryptStream(streamKey, { plainSize: plaintext.length })).getReader();
  await rejects(
    (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        emitted.push(value);
      }
    })(),
    DecryptionFailed,
  );
  const total = emitted.reduce((n, c) => n + c.length, 0);
  equal(total, 2 * P, "exactly the two good packages came out");
  ok(equalBytes(emitted[0] as Uint8Array, plaintext.subarray(0, P)));
  ok(equalBytes(emitted[1] as Uint8Array, plaintext.subarray(P, 2 * P)));
});

Deno.test("a range read decrypts only its packages and returns exactly the range", async () => {
  const rand = seededRandom("ranges");
  for (const size of [1, P - 1, P, P + 1, 5 * P + 333]) {
    const { streamKey, ciphertext, plaintext } = await encryptRandom(rand, size);
    const ranges = [
      { offset: 0, length: size },
      { offset: 0, length: 1 },
      { offset: size - 1, length: 1 },
    ];
    if (size > P) {
      ranges.push({ offset: P - 3, length: Math.min(6, size - P + 3) });
      ranges.push({ offset: P, length: size - P });
    }
    for (let i = 0; i < 10; i++) {
      const offset = rand.int(size);
      ranges.push({ offset, length: 1 + rand.int(size - offset) });
    }
    for (const range of ranges) {
      const span = ciphertextRange(size, range);
      const touched = span.lastPackage - span.firstPackage + 1;
      ok(span.length <= touched * PACKAGE_CIPHERTEXT_BYTES, "reads only the packages touched");
      equal(span.offset % PACKAGE_CIPHERTEXT_BYTES, 0, "starts at a package boundary");
      const slice = ciphertext.slice(span.offset, span.offset + span.length);
      const out = await pipeBytes(
        slice,
        createDecryptStream(streamKey, { plainSize: size, range }),
        { rand, chunkMax: 1 + rand.int(2 * P) },
      );
      ok(
        equalBytes(out, plaintext.subarray(range.offset, range.offset + range.length)),
        `size ${size}, range ${range.offset}+${range.length}`,
      );
    }
  }
});

Deno.test("a range read of tampered or short ciphertext fails", async () => {
  const rand = seededRandom("range tamper");
  const size = 4 * P + 10;
  const { streamKey, ciphertext } = await encryptRandom(rand, size);
  const range = { offset: P + 5, length: 2 * P };
  const span = ciphertextRange(size, range);
  const slice = ciphertext.slice(span.offset, span.offset + span.length);
  const flipped = slice.slice();
  flipped[7] = (flipped[7] as number) ^ 0x80;
  await rejects(
    pipeBytes(flipped, createDecryptStream(streamKey, { plainSize: size, range })),
    DecryptionFailed,
  );
  await rejects(
    pipeBytes(
      slice.subarray(0, slice.length - 1),
      createDecryptStream(streamKey, {
        plainSize: size,
        range,
      }),
    ),
    DecryptionFailed,
  );
  // Packages from the wrong offset (a shifted read) fail: their seq differs.
  const shifted = ciphertext.slice(0, span.length);
  await rejects(
    pipeBytes(shifted, createDecryptStream(streamKey, { plainSize: size, range })),
    DecryptionFailed,
  );
});

Deno.test("the last package of a range ending the stream is opened as the last", async () => {
  const rand = seededRandom("range end");
  const size = 2 * P + 9;
  const { streamKey, ciphertext, plaintext } = await encryptRandom(rand, size);
  const range = { offset: 2 * P, length: 9 };
  const span = ciphertextRange(size, range);
  equal(span.offset + span.length, ciphertext.length);
  const out = await pipeBytes(
    ciphertext.slice(span.offset),
    createDecryptStream(streamKey, { plainSize: size, range }),
  );
  ok(equalBytes(out, plaintext.subarray(2 * P)));
});

Deno.test("splitRange maps an object range onto its parts", () => {
  const parts = [10, 5, 0, 20];
  equal(
    JSON.stringify(splitRange(parts, { offset: 0, length: 35 })),
    JSON.stringify([
      { part: 0, offset: 0, length: 10 },
      { part: 1, offset: 0, length: 5 },
      { part: 3, offset: 0, length: 20 },
    ]),
  );
  equal(
    JSON.stringify(splitRange(parts, { offset: 12, length: 5 })),
    JSON.stringify([
      { part: 1, offset: 2, length: 3 },
      { part: 3, offset: 0, length: 2 },
    ]),
  );
  equal(
    JSON.stringify(splitRange(parts, { offset: 34, length: 1 })),
    JSON.stringify([
      { part: 3, offset: 19, length: 1 },
    ]),
  );
  throws(() => splitRange(parts, { offset: 30, length: 6 }));
});

Deno.test("ciphertextRange refuses a range past the end", () => {
  throws(() => ciphertextRange(10, { offset: 5, length: 6 }));
  throws(() => ciphertextRange(10, { offset: 0, length: 0 }));
});

Deno.test("both directions emit each package before the input ends (one package held)", async () => {
  const rand = seededRandom("streaming");
  const streamKey = streamKeyFrom(rand);
  const encrypt = createEncryptStream(streamKey);
  const writer = encrypt.writable.getWriter();
  const reader = encrypt.readable.getReader();
  // Package 0 is sealed once a byte of package 1 shows it is not the last.
  void writer.write(randomData(rand, P + 1));
  let sealed = 0;
  while (sealed < PACKAGE_CIPHERTEXT_BYTES) {
    const { done, value } = await reader.read();
    ok(!done && value !== undefined);
    sealed += value.length;
  }
  equal(sealed, PACKAGE_CIPHERTEXT_BYTES, "package 0 out while the input is still open");
  void writer.close();
  await reader.read();

  const decrypt = createDecryptStream(streamKey, { plainSize: 10 * P });
  const dWriter = decrypt.writable.getWriter();
  const dReader = decrypt.readable.getReader();
  const ciphertext = await pipeBytes(randomData(rand, 10 * P), createEncryptStream(streamKey));
  void dWriter.write(ciphertext.subarray(0, PACKAGE_CIPHERTEXT_BYTES));
  const opened = await dReader.read();
  equal(opened.value?.length, P, "package 0 opened with 9 packages still to come");
  void dWriter.abort();
  await dReader.cancel();
});

Deno.test("random bytes of any length never decrypt", async () => {
  const rand = seededRandom("garbage");
  const streamKey = streamKeyFrom(rand);
  for (let trial = 0; trial < 40; trial++) {
    const length = trial < 20 ? rand.int(64) : rand.int(3 * PACKAGE_CIPHERTEXT_BYTES);
    await assertRejected(streamKey, randomData(rand, length), `${length} random bytes`);
  }
});

Deno.test("a stream opened with the wrong stream key fails", async () => {
  const rand = seededRandom("wrong key");
  const { streamKey, ciphertext } = await encryptRandom(rand, 2 * P + 3);
  const otherKey = { key: randomData(rand, 32), noncePrefix: streamKey.noncePrefix };
  await assertRejected(otherKey, ciphertext, "another key");
  const otherPrefix = { key: streamKey.key, noncePrefix: randomData(rand, 7) };
  await assertRejected(otherPrefix, ciphertext, "another nonce prefix");
});
