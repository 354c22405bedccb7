import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  combineCrc,
  createHasher,
  digestOf,
  type HashAlgorithm,
  toBase64,
  toHex,
} from "./checksums.ts";

const CHECK = new TextEncoder().encode("123456789");

// The "check" values of the CRC catalogue and the standard test vectors for "123456789".
const KNOWN: Record<HashAlgorithm, string> = {
  CRC32: "cbf43926",
  CRC32C: "e3069283",
  CRC64NVME: "ae8b14860a799888",
  MD5: "25f9e794323b453885f5181f1b624d0b",
  SHA1: "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
  SHA256: "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
};

for (const [alg, hex] of Object.entries(KNOWN) as Array<[HashAlgorithm, string]>) {
  Deno.test(`${alg} of "123456789" matches the catalogue check value`, async () => {
    assertEquals(toHex(await digestOf(alg, CHECK)), hex);
  });
}

Deno.test("streamed updates give the same digest as one update", async () => {
  const data = crypto.getRandomValues(new Uint8Array(65_536));
  for (const alg of Object.keys(KNOWN) as HashAlgorithm[]) {
    const h = await createHasher(alg);
    for (let i = 0; i < data.length; i += 7919) h.update(data.subarray(i, i + 7919));
    assertEquals(toHex(h.digest()), toHex(await digestOf(alg, data)), alg);
  }
});

Deno.test("combineCrc equals the CRC of the concatenation", async () => {
  const seed = Number(Deno.env.get("SHALE_SEED") ?? Date.now() % 1_000_000);
  console.log(`seed ${seed}`);
  let state = seed;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const alg of ["CRC32", "CRC32C", "CRC64NVME"] as const) {
    for (let trial = 0; trial < 5; trial++) {
      const a = crypto.getRandomValues(new Uint8Array(Math.floor(rand() * 5000)));
      const b = crypto.getRandomValues(new Uint8Array(Math.floor(rand() * 5000) + 1));
      const whole = new Uint8Array(a.length + b.length);
      whole.set(a);
      whole.set(b, a.length);
      const combined = combineCrc(alg, await digestOf(alg, a), await digestOf(alg, b), b.length);
      assertEquals(toBase64(combined), toBase64(await digestOf(alg, whole)), alg);
    }
  }
});
