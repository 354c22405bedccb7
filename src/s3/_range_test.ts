import { deepEqual, equal, throws } from "node:assert/strict";
import { S3Error } from "./errors.ts";
import { parseRange } from "./_range.ts";

const invalid = (e: unknown) => e instanceof S3Error && e.code === "InvalidRange";

Deno.test("parses first-last, open-ended and suffix byte ranges", () => {
  deepEqual(parseRange("bytes=0-9", 100), { start: 0, end: 9 });
  deepEqual(parseRange("bytes=90-", 100), { start: 90, end: 99 });
  deepEqual(parseRange("bytes=-10", 100), { start: 90, end: 99 });
  deepEqual(parseRange("bytes=-1000", 100), { start: 0, end: 99 });
  deepEqual(parseRange("bytes=50-1000", 100), { start: 50, end: 99 });
});

Deno.test("ignores headers S3 ignores: absent, malformed, several ranges, backwards", () => {
  equal(parseRange(null, 100), undefined);
  equal(parseRange("items=0-1", 100), undefined);
  equal(parseRange("bytes=0-1,5-6", 100), undefined);
  equal(parseRange("bytes=9-1", 100), undefined);
  equal(parseRange("bytes=-", 100), undefined);
});

Deno.test("answers InvalidRange past the end and for any first-byte range of an empty object", () => {
  throws(() => parseRange("bytes=100-", 100), invalid);
  throws(() => parseRange("bytes=0-", 0), invalid);
  throws(() => parseRange("bytes=-0", 100), invalid);
  const e = (() => {
    try {
      parseRange("bytes=200-300", 100);
    } catch (err) {
      return err as S3Error;
    }
  })();
  equal(e?.details.headers?.["content-range"], "bytes */100");
});

Deno.test("serves a suffix range of an empty object as the whole (empty) object", () => {
  equal(parseRange("bytes=-5", 0), undefined);
});
