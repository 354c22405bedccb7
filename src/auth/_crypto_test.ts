import assert from "node:assert/strict";
import {
  canonicalHeaderValue,
  canonicalQuery,
  deriveSigningKey,
  formatAmzDate,
  KeyedHmac,
  parseAmzDate,
  parseQuery,
  percentDecode,
  uriEncode,
} from "./_crypto.ts";
import { SIGNING_KEY_CACHE_ENTRIES_MAX } from "../config/limits.ts";
import { createHmac } from "node:crypto";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("derives the signing key of AWS's example, cached or not, past the cache's size", () => {
  // The key behind every signature in the AWS S3 SigV4 examples (20130524, us-east-1, s3); checked
  // against the documented GET Object signature in sigv4_test.ts.
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const first = hex(deriveSigningKey(secret, "20130524", "us-east-1"));
  for (let i = 0; i <= SIGNING_KEY_CACHE_ENTRIES_MAX; i++) {
    deriveSigningKey(`s${i}`, "20130524", "r");
  }
  assert.equal(hex(deriveSigningKey(secret, "20130524", "us-east-1")), first);
  assert.notEqual(hex(deriveSigningKey(secret, "20130525", "us-east-1")), first);
  assert.notEqual(hex(deriveSigningKey(secret + "x", "20130524", "us-east-1")), first);
});

Deno.test("encodes with the S3 unreserved set, upper-case hex and UTF-8", () => {
  assert.equal(uriEncode("A-z_0.9~"), "A-z_0.9~");
  assert.equal(uriEncode("a b+c/=&?#!*'()"), "a%20b%2Bc%2F%3D%26%3F%23%21%2A%27%28%29");
  assert.equal(uriEncode("\u00e9\u20ac"), "%C3%A9%E2%82%AC");
});

Deno.test("decodes percent escapes once and keeps a stray percent sign literal", () => {
  const text = (s: string, plus = false) => new TextDecoder().decode(percentDecode(s, plus));
  assert.equal(text("a%20b%2fc"), "a b/c");
  assert.equal(text("100%"), "100%");
  assert.equal(text("%zz%4"), "%zz%4");
  assert.equal(text("%2525"), "%25");
  assert.equal(text("a+b"), "a+b");
  assert.equal(text("a+b", true), "a b");
});

Deno.test("canonicalises a query: bare names get '=', sorted by name then value", () => {
  assert.equal(canonicalQuery(parseQuery("uploads")), "uploads=");
  assert.equal(
    canonicalQuery(parseQuery("b=2&a=x+y&a=%2B&c=&&prefix=a/b")),
    "a=%2B&a=x%20y&b=2&c=&prefix=a%2Fb",
  );
  assert.equal(
    canonicalQuery(parseQuery("X-Amz-Signature=abc&x=1"), "X-Amz-Signature"),
    "x=1",
  );
  // Upper case sorts before lower case (byte order), as AWS sorts.
  assert.equal(canonicalQuery(parseQuery("a=1&B=2")), "B=2&a=1");
});

Deno.test("trims header values and collapses runs of spaces and tabs", () => {
  assert.equal(canonicalHeaderValue("  a   b\t\tc  "), "a b c");
  assert.equal(canonicalHeaderValue('"a   b"'), '"a b"');
});

Deno.test("reads and writes the ISO 8601 basic timestamp, refusing impossible dates", () => {
  const d = parseAmzDate("20130524T000000Z");
  assert.equal(d?.toISOString(), "2013-05-24T00:00:00.000Z");
  assert.equal(formatAmzDate(d!), "20130524T000000Z");
  for (const bad of ["20130231T000000Z", "20130524T250000Z", "2013-05-24T00:00:00Z", "20130524"]) {
    assert.equal(parseAmzDate(bad), undefined, bad);
  }
});

Deno.test("KeyedHmac equals createHmac for keys of every length and many messages", () => {
  for (const keyLength of [0, 1, 32, 63, 64, 65, 200]) {
    const key = new Uint8Array(keyLength).map((_, i) => (i * 37 + keyLength) & 0xff);
    const mac = new KeyedHmac(key);
    for (const message of ["", "a", "AWS4-HMAC-SHA256-PAYLOAD\n".repeat(20), "\u00e9"]) {
      assert.equal(mac.hex(message), createHmac("sha256", key).update(message).digest("hex"));
    }
  }
});
