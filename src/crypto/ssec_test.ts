import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { createHasherSync, toBase64 } from "../util/checksums.ts";
import { CryptoError } from "./errors.ts";
import { newDataKey } from "./keys.ts";
import {
  customerKeyHeaders,
  openWithCustomerKey,
  parseCustomerKey,
  sealWithCustomerKey,
} from "./ssec.ts";
import { equalBytes } from "./_testing.ts";

function md5Base64(bytes: Uint8Array): string {
  const h = createHasherSync("MD5");
  h.update(bytes);
  return toBase64(h.digest());
}

const KEY = crypto.getRandomValues(new Uint8Array(32));
const GOOD = { algorithm: "AES256", key: toBase64(KEY), keyMd5: md5Base64(KEY) };

function invalidArgument(message: RegExp) {
  return (e: unknown) =>
    e instanceof CryptoError && e.code === "InvalidArgument" && message.test(e.message);
}

Deno.test("valid SSE-C headers give the key and the MD5 to echo", () => {
  const parsed = parseCustomerKey(GOOD);
  ok(parsed !== undefined);
  ok(equalBytes(parsed.key, KEY));
  equal(parsed.keyMd5, GOOD.keyMd5);
});

Deno.test("no SSE-C headers at all means no SSE-C", () => {
  equal(parseCustomerKey({ algorithm: null, key: null, keyMd5: null }), undefined);
  equal(parseCustomerKey({ algorithm: undefined, key: undefined, keyMd5: undefined }), undefined);
});

Deno.test("a missing or unknown algorithm is InvalidArgument", () => {
  throws(
    () => parseCustomerKey({ ...GOOD, algorithm: null }),
    invalidArgument(/valid encryption algorithm/),
  );
  throws(
    () => parseCustomerKey({ ...GOOD, algorithm: "AES128" }),
    invalidArgument(/valid encryption algorithm/),
  );
  throws(
    () => parseCustomerKey({ ...GOOD, algorithm: "aes256" }),
    invalidArgument(/valid encryption algorithm/),
  );
});

Deno.test("a missing key or key MD5 is InvalidArgument with AWS's wording", () => {
  throws(() => parseCustomerKey({ ...GOOD, key: null }), invalidArgument(/appropriate secret key/));
  throws(
    () => parseCustomerKey({ ...GOOD, keyMd5: null }),
    invalidArgument(/client calculated MD5/),
  );
});

Deno.test("a key that is not 32 bytes of base64 is InvalidArgument", () => {
  const short = crypto.getRandomValues(new Uint8Array(16));
  for (
    const key of [toBase64(short), "not base64!", toBase64(KEY).slice(0, -1), ` ${toBase64(KEY)}`]
  ) {
    throws(
      () => parseCustomerKey({ ...GOOD, key, keyMd5: md5Base64(short) }),
      invalidArgument(/secret key was invalid/),
      key,
    );
  }
});

Deno.test("a key MD5 that does not match the key is InvalidArgument", () => {
  const other = crypto.getRandomValues(new Uint8Array(32));
  throws(
    () => parseCustomerKey({ ...GOOD, keyMd5: md5Base64(other) }),
    invalidArgument(/did not match/),
  );
  throws(() => parseCustomerKey({ ...GOOD, keyMd5: "garbage" }), invalidArgument(/did not match/));
});

Deno.test("customerKeyHeaders reads the object and the copy-source headers", () => {
  const headers = new Headers({
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": "a",
    "x-amz-server-side-encryption-customer-key-MD5": "b",
    "x-amz-copy-source-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-copy-source-server-side-encryption-customer-key": "c",
    "x-amz-copy-source-server-side-encryption-customer-key-MD5": "d",
  });
  deepStrictEqual(customerKeyHeaders(headers), { algorithm: "AES256", key: "a", keyMd5: "b" });
  deepStrictEqual(customerKeyHeaders(headers, { copySource: true }), {
    algorithm: "AES256",
    key: "c",
    keyMd5: "d",
  });
});

Deno.test("the customer key opens its object's data key; a wrong key is AccessDenied", () => {
  const customer = parseCustomerKey(GOOD);
  ok(customer !== undefined);
  const dataKey = newDataKey();
  const where = { bucket: "b", object: "secret.txt" };
  const sealed = sealWithCustomerKey(customer, dataKey, where);
  equal(sealed.length, 90);
  ok(equalBytes(openWithCustomerKey(customer, sealed, where), dataKey));
  const otherKey = crypto.getRandomValues(new Uint8Array(32));
  const wrong = { key: otherKey, keyMd5: md5Base64(otherKey) };
  const denied = (e: unknown) => e instanceof CryptoError && e.code === "AccessDenied";
  throws(() => openWithCustomerKey(wrong, sealed, where), denied);
  // The sealed key copied onto another object does not open there, even with the right key.
  throws(() => openWithCustomerKey(customer, sealed, { bucket: "b", object: "other.txt" }), denied);
  // Neither the key nor its MD5 is in what is stored.
  const md5 = createHasherSync("MD5");
  md5.update(KEY);
  const digest = md5.digest();
  for (let i = 0; i + 16 <= sealed.length; i++) {
    ok(!equalBytes(sealed.subarray(i, i + 16), digest));
    ok(!equalBytes(sealed.subarray(i, i + 16), KEY.subarray(0, 16)));
  }
});
