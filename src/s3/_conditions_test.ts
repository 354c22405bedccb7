import { equal, throws } from "node:assert/strict";
import type { ObjectInfo } from "../object/types.ts";
import { S3Error } from "./errors.ts";
import { checkCopySourceConditions, checkReadConditions, etagMatches } from "./_conditions.ts";

const INFO = {
  etag: "abc123",
  lastModified: new Date("2026-01-02T03:04:05.678Z"),
} as ObjectInfo;
const BEFORE = "Fri, 02 Jan 2026 03:04:04 GMT";
const SAME = "Fri, 02 Jan 2026 03:04:05 GMT";
const AFTER = "Fri, 02 Jan 2026 03:04:06 GMT";

function codeOf(headers: Record<string, string>, copy = false): string {
  try {
    (copy ? checkCopySourceConditions : checkReadConditions)(new Headers(headers), INFO);
    return "ok";
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

Deno.test("matches quoted, bare, weak, listed and wildcard ETags", () => {
  equal(etagMatches('"abc123"', "abc123"), true);
  equal(etagMatches("abc123", "abc123"), true);
  equal(etagMatches('W/"abc123"', "abc123"), true);
  equal(etagMatches('"x", "abc123"', "abc123"), true);
  equal(etagMatches("*", "abc123"), true);
  equal(etagMatches('"abc"', "abc123"), false);
});

Deno.test("If-Match and If-Unmodified-Since fail with 412; If-Match wins over the date", () => {
  equal(codeOf({ "if-match": '"nope"' }), "PreconditionFailed");
  equal(codeOf({ "if-unmodified-since": BEFORE }), "PreconditionFailed");
  equal(codeOf({ "if-unmodified-since": SAME }), "ok");
  equal(codeOf({ "if-match": '"abc123"', "if-unmodified-since": BEFORE }), "ok");
});

Deno.test("If-None-Match and If-Modified-Since give 304; If-None-Match wins over the date", () => {
  equal(codeOf({ "if-none-match": '"abc123"' }), "NotModified");
  equal(codeOf({ "if-modified-since": SAME }), "NotModified");
  equal(codeOf({ "if-modified-since": BEFORE }), "ok");
  equal(codeOf({ "if-none-match": '"other"', "if-modified-since": AFTER }), "ok");
  equal(codeOf({ "if-modified-since": "not a date" }), "ok");
});

Deno.test("copy-source conditions fail with 412 in every case", () => {
  equal(codeOf({ "x-amz-copy-source-if-none-match": '"abc123"' }, true), "PreconditionFailed");
  equal(codeOf({ "x-amz-copy-source-if-modified-since": AFTER }, true), "PreconditionFailed");
  equal(codeOf({ "x-amz-copy-source-if-match": '"abc123"' }, true), "ok");
  throws(
    () => checkCopySourceConditions(new Headers({ "x-amz-copy-source-if-match": "x" }), INFO),
    S3Error,
  );
});
