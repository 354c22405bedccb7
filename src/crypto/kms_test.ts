import { deepStrictEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { toBase64 } from "../util/checksums.ts";
import { CryptoError, DecryptionFailed } from "./errors.ts";
import { encodeContext, type KeyContext, openSealedKey } from "./keys.ts";
import { Kms, masterKeyFromEnv, normalizeKeyId, parseMasterKey, type StoredKmsKey } from "./kms.ts";
import { equalBytes } from "./_testing.ts";

const ROOT_BYTES = crypto.getRandomValues(new Uint8Array(32));
const ROOT = { name: "shale-default", key: ROOT_BYTES };
const CTX: KeyContext = { mode: "SSE-S3", bucket: "b", object: "o" };

function code(c: string) {
  return (e: unknown) => e instanceof CryptoError && e.code === c;
}

/** A KMS whose key store is an array, as the object layer would keep it on the drives. */
function kmsWithStore(stored: StoredKmsKey[] = []) {
  const kms = Kms.open(ROOT, {
    stored,
    persist: (entry) => {
      stored.push(entry);
      return Promise.resolve();
    },
  });
  return { kms, stored };
}

Deno.test("parseMasterKey reads MinIO's name:base64 format and refuses bad keys", () => {
  const parsed = parseMasterKey(`my-key:${toBase64(ROOT_BYTES)}`);
  equal(parsed.name, "my-key");
  ok(equalBytes(parsed.key, ROOT_BYTES));
  for (
    const bad of [
      "no-colon",
      `:${toBase64(ROOT_BYTES)}`,
      "k:short",
      `k:${btoa("x".repeat(31))}`,
      `bad name:${toBase64(ROOT_BYTES)}`,
    ]
  ) {
    throws(() => parseMasterKey(bad), code("InvalidArgument"), bad);
  }
  // Errors never echo the key.
  try {
    parseMasterKey(`k:${toBase64(ROOT_BYTES).slice(1)}`);
  } catch (e) {
    ok(!(e as Error).message.includes(toBase64(ROOT_BYTES).slice(1, 20)));
  }
});

Deno.test("masterKeyFromEnv prefers SHALE_KMS_SECRET_KEY and accepts MinIO's variables", async () => {
  const shale = `shale:${toBase64(ROOT_BYTES)}`;
  const minio = `minio:${toBase64(new Uint8Array(32))}`;
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  const both = env({ SHALE_KMS_SECRET_KEY: shale, MINIO_KMS_SECRET_KEY: minio });
  equal((await masterKeyFromEnv(both))?.name, "shale");
  equal((await masterKeyFromEnv(env({ MINIO_KMS_SECRET_KEY: minio })))?.name, "minio");
  equal(await masterKeyFromEnv(env({})), undefined);
  // A key file, as MinIO's MINIO_KMS_SECRET_KEY_FILE; a trailing newline is fine.
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/kms.key`;
    await Deno.writeTextFile(path, `${shale}\n`);
    const fromFile = await masterKeyFromEnv(env({ MINIO_KMS_SECRET_KEY_FILE: path }), {
      readTextFile: Deno.readTextFile,
    });
    equal(fromFile?.name, "shale");
    ok(fromFile !== undefined && equalBytes(fromFile.key, ROOT_BYTES));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a generated data key decrypts with its key id and context only", async () => {
  const { kms } = kmsWithStore();
  equal(kms.defaultKeyId, "shale-default");
  const { plaintext, sealed } = await kms.generateDataKey(kms.defaultKeyId, CTX);
  equal(plaintext.length, 32);
  ok(equalBytes(await kms.decryptDataKey(kms.defaultKeyId, sealed, CTX), plaintext));
  await rejects(
    kms.decryptDataKey(kms.defaultKeyId, sealed, { ...CTX, object: "o2" }),
    DecryptionFailed,
  );
  await rejects(
    kms.decryptDataKey(kms.defaultKeyId, sealed, { ...CTX, bucket: "b2" }),
    DecryptionFailed,
  );
  await rejects(kms.decryptDataKey("missing", sealed, CTX), code("KMS.NotFoundException"));
  await rejects(kms.generateDataKey("missing", CTX), code("KMS.NotFoundException"));
});

Deno.test("a created key is persisted sealed, never in clear, and survives a restart", async () => {
  const { kms, stored } = kmsWithStore();
  const info = await kms.createKey("tenant-a");
  deepStrictEqual(info.versions, [1]);
  equal(stored.length, 1);
  const ctx: KeyContext = {
    mode: "SSE-KMS",
    bucket: "b",
    object: "o",
    encryptionContext: { a: "b" },
  };
  const { plaintext, sealed } = await kms.generateDataKey("tenant-a", ctx);

  const restarted = Kms.open(ROOT, { stored });
  ok(restarted.hasKey("tenant-a"));
  ok(equalBytes(await restarted.decryptDataKey("tenant-a", sealed, ctx), plaintext));
  // A data key sealed under tenant-a does not open as the default key's.
  await rejects(restarted.decryptDataKey(restarted.defaultKeyId, sealed, ctx), DecryptionFailed);
  // The stored entry opens only with the root key.
  throws(
    () =>
      Kms.open({ name: ROOT.name, key: crypto.getRandomValues(new Uint8Array(32)) }, { stored }),
    DecryptionFailed,
  );
  // Nor under another root name, or with a renamed entry.
  throws(() => Kms.open({ name: "other", key: ROOT_BYTES }, { stored }), DecryptionFailed);
  const renamed = stored.map((e) => ({ ...e, name: "tenant-b" }));
  throws(() => Kms.open(ROOT, { stored: renamed }), DecryptionFailed);
});

Deno.test("a key-store entry follows FORMAT.md and does not hold its key in clear", async () => {
  const { kms, stored } = kmsWithStore();
  await kms.createKey("k");
  const entry = stored[0] as StoredKmsKey;
  equal(entry.sealed.length, 90);
  equal(new TextDecoder().decode(entry.sealed.subarray(0, 4)), "SHSK");
  equal(entry.sealed[5], 3, "key-store scheme");
  // Open the entry by hand from the grammar: store-context = "shale-kms-key-v1" lp(root-name)
  // lp(name) u32(version) lp(created-at).
  const lp = (t: string) => {
    const b = new TextEncoder().encode(t);
    return [...u32(b.length), ...b];
  };
  const context = new Uint8Array([
    ...new TextEncoder().encode("shale-kms-key-v1"),
    ...lp(ROOT.name),
    ...lp("k"),
    ...u32(1),
    ...lp(entry.createdAt),
  ]);
  const masterKey = openSealedKey(ROOT_BYTES, entry.sealed, context);
  for (let i = 0; i + 32 <= entry.sealed.length; i++) {
    ok(!equalBytes(entry.sealed.subarray(i, i + 32), masterKey), `key in clear at ${i}`);
  }
  // And that key is the one the KMS seals data keys under.
  const { plaintext, sealed } = await kms.generateDataKey("k", CTX);
  ok(equalBytes(openSealedKey(masterKey, sealed, encodeContext("k", CTX)), plaintext));
});

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

Deno.test("creating a key that exists, or with a bad name, is refused", async () => {
  const { kms } = kmsWithStore();
  await rejects(kms.createKey("shale-default"), code("KMS.AlreadyExistsException"));
  await rejects(kms.createKey("has space"), code("InvalidArgument"));
  await rejects(kms.createKey("x".repeat(65)), code("InvalidArgument"));
  const results = await Promise.allSettled([kms.createKey("twice"), kms.createKey("twice")]);
  equal(results.filter((r) => r.status === "fulfilled").length, 1, "concurrent creates: one wins");
});

Deno.test("a key whose persist fails is never used", async () => {
  const kms = Kms.open(ROOT, { persist: () => Promise.reject(new Error("disk full")) });
  await rejects(kms.createKey("k"), /disk full/);
  ok(!kms.hasKey("k"));
  await rejects(kms.rotateKey(kms.defaultKeyId), /disk full/);
  equal(kms.listKeys()[0]?.currentVersion, 1);
  const noStore = Kms.open(ROOT);
  await rejects(noStore.createKey("k"), code("InvalidRequest"));
});

Deno.test("rotation re-seals a data key under the new version without changing it", async () => {
  const { kms, stored } = kmsWithStore();
  const { plaintext, sealed } = await kms.generateDataKey(kms.defaultKeyId, CTX);
  const info = await kms.rotateKey(kms.defaultKeyId);
  equal(info.currentVersion, 2);
  deepStrictEqual(info.versions, [1, 2]);
  ok(!kms.isCurrent(kms.defaultKeyId, sealed));
  // The old sealed key still opens; the re-sealed one is current and holds the same data key.
  ok(equalBytes(await kms.decryptDataKey(kms.defaultKeyId, sealed, CTX), plaintext));
  const resealed = await kms.resealDataKey(kms.defaultKeyId, sealed, CTX);
  ok(kms.isCurrent(kms.defaultKeyId, resealed));
  ok(equalBytes(await kms.decryptDataKey(kms.defaultKeyId, resealed, CTX), plaintext));
  // New data keys use version 2, also after a restart.
  const restarted = Kms.open(ROOT, { stored });
  const fresh = await restarted.generateDataKey(restarted.defaultKeyId, CTX);
  ok(restarted.isCurrent(restarted.defaultKeyId, fresh.sealed));
  ok(equalBytes(await restarted.decryptDataKey(restarted.defaultKeyId, resealed, CTX), plaintext));
  // Re-sealing checks the context like decrypting does.
  await rejects(
    kms.resealDataKey(kms.defaultKeyId, sealed, { ...CTX, object: "x" }),
    DecryptionFailed,
  );
});

Deno.test("listKeys and status describe the keys; keyStatus round-trips a data key", async () => {
  const { kms } = kmsWithStore();
  await kms.createKey("alpha");
  const keys = kms.listKeys();
  deepStrictEqual(keys.map((k) => [k.name, k.source, k.isDefault]), [
    ["alpha", "created", false],
    ["shale-default", "environment", true],
  ]);
  deepStrictEqual(kms.status(), { backend: "builtin", defaultKeyId: "shale-default", keys: 2 });
  deepStrictEqual(await kms.keyStatus("alpha"), {
    name: "alpha",
    encryptionOk: true,
    decryptionOk: true,
  });
  await rejects(kms.keyStatus("nope"), code("KMS.NotFoundException"));
});

Deno.test("normalizeKeyId takes the key name out of an ARN", () => {
  equal(normalizeKeyId("my-key"), "my-key");
  equal(normalizeKeyId("arn:aws:kms:us-east-1:123456789012:key/my-key"), "my-key");
  equal(normalizeKeyId("arn:aws:kms:my-key"), "my-key");
});

Deno.test("a key store with the same version twice is refused at start-up", async () => {
  const { kms, stored } = kmsWithStore();
  await kms.createKey("dup");
  throws(() => Kms.open(ROOT, { stored: [...stored, ...stored] }), /version "1" exists/);
});

Deno.test("a key store attached after opening restores created keys and persists new ones", async () => {
  const { kms, stored } = kmsWithStore();
  await kms.createKey("tenant-a");
  const later = Kms.open(ROOT);
  // Without a store, creating a key is refused (nowhere to keep it).
  await rejects(later.createKey("tenant-x"));
  const persisted: StoredKmsKey[] = [];
  later.attachStore({ stored, persist: (e) => Promise.resolve(void persisted.push(e)) });
  ok(later.hasKey("tenant-a"));
  await later.createKey("tenant-b");
  deepStrictEqual(persisted.map((e) => e.name), ["tenant-b"]);
  throws(() => later.attachStore({ stored: [], persist: () => Promise.resolve() }));
});
