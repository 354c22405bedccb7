import assert from "node:assert/strict";
import {
  decryptMadmin,
  encryptMadmin,
  isMadminEncrypted,
  type MadminAlgorithm,
  MadminCryptoError,
} from "./madmin_crypto.ts";

interface Vector {
  name: string;
  password: string;
  plaintextHex: string;
  algorithm: MadminAlgorithm;
  saltHex?: string;
  nonceHex?: string;
  ciphertextHex: string;
  deterministic: boolean;
}

// Made by tests/testdata/madmin/gen.go with madmin-go (the version mc pins) and sio-go.
const VECTORS = JSON.parse(
  await Deno.readTextFile(new URL("../../tests/testdata/madmin/vectors.json", import.meta.url)),
) as Vector[];

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

Deno.test("decrypts what madmin-go encrypted, for every algorithm and fragment boundary", async () => {
  for (const v of VECTORS) {
    const cipher = hex(v.ciphertextHex);
    assert.ok(isMadminEncrypted(cipher), v.name);
    assert.deepEqual(await decryptMadmin(v.password, cipher), hex(v.plaintextHex), v.name);
  }
});

Deno.test("encrypts byte for byte as madmin-go does, given the same salt and nonce", async () => {
  for (const v of VECTORS.filter((x) => x.deterministic)) {
    const out = await encryptMadmin(v.password, hex(v.plaintextHex), {
      algorithm: v.algorithm,
      salt: hex(v.saltHex!),
      nonce: hex(v.nonceHex!),
    });
    assert.deepEqual(out, hex(v.ciphertextHex), v.name);
  }
});

Deno.test("refuses a body with a flipped bit, a wrong password or a cut-off end", async () => {
  const v = VECTORS.find((x) => x.deterministic && x.plaintextHex.length === 2 * 16385)!;
  const cipher = hex(v.ciphertextHex);
  const flipped = cipher.slice();
  flipped[100]! ^= 1;
  await assert.rejects(decryptMadmin(v.password, flipped), MadminCryptoError);
  await assert.rejects(decryptMadmin(v.password + "x", cipher), MadminCryptoError);
  // Dropping the final fragment leaves a stream whose last fragment is not flagged final.
  await assert.rejects(
    decryptMadmin(v.password, cipher.subarray(0, 41 + 16384 + 16)),
    MadminCryptoError,
  );
  await assert.rejects(decryptMadmin(v.password, cipher.subarray(0, 50)), MadminCryptoError);
});

Deno.test("round-trips a random body with a random salt and nonce", async () => {
  const data = crypto.getRandomValues(new Uint8Array(20_000));
  const a = await encryptMadmin("root-secret", data);
  const b = await encryptMadmin("root-secret", data);
  assert.notDeepEqual(a, b);
  assert.deepEqual(await decryptMadmin("root-secret", a), data);
  assert.ok(
    !isMadminEncrypted(new TextEncoder().encode(JSON.stringify({ secretKey: "x".repeat(40) }))),
  );
});
