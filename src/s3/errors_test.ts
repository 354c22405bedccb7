import { equal, match } from "node:assert/strict";
import { SigV4Error } from "../auth/types.ts";
import * as objectErrors from "../object/errors.ts";
import { ERROR_TABLE, S3Error, toS3Error } from "./errors.ts";
import { errorXml } from "./error_xml.ts";

Deno.test("every error code has an HTTP status and a message", () => {
  for (const [code, [status, message]] of Object.entries(ERROR_TABLE)) {
    equal(status >= 300 && status < 600, true, code);
    equal(message.length > 0, true, code);
  }
  equal(new S3Error("NoSuchKey").status, 404);
  equal(new S3Error("NotImplemented").status, 501);
  equal(new S3Error("InvalidRange").status, 416);
  equal(new S3Error("SignatureDoesNotMatch").status, 403);
});

Deno.test("translates object layer errors to AWS codes", () => {
  const cases: Array<[Error, string]> = [
    [new objectErrors.BucketNotFound("x", "b"), "NoSuchBucket"],
    [new objectErrors.BucketExists("x", "b"), "BucketAlreadyOwnedByYou"],
    [new objectErrors.BucketNotEmpty("x", "b"), "BucketNotEmpty"],
    [new objectErrors.ObjectNotFound("x", "b", "k"), "NoSuchKey"],
    [new objectErrors.UploadNotFound("x"), "NoSuchUpload"],
    [new objectErrors.InvalidPart("x"), "InvalidPart"],
    [new objectErrors.InvalidPartOrder("x"), "InvalidPartOrder"],
    [new objectErrors.PartTooSmall("x"), "EntityTooSmall"],
    [new objectErrors.IncompleteBody("x"), "IncompleteBody"],
    [new objectErrors.PreconditionFailed("x"), "PreconditionFailed"],
    [new objectErrors.QuorumLost("x"), "SlowDown"],
  ];
  for (const [err, code] of cases) equal(toS3Error(err)?.code, code, err.name);
  equal(toS3Error(new objectErrors.ObjectNotFound("x", "b", "k"))?.details.key, "k");
});

Deno.test("translates auth errors keeping their message, and leaves unknown errors alone", () => {
  const e = toS3Error(new SigV4Error("RequestTimeTooSkewed", "Skewed by 20 minutes"));
  equal(e?.code, "RequestTimeTooSkewed");
  equal(e?.status, 403);
  equal(e?.message, "Skewed by 20 minutes");
  equal(toS3Error(new TypeError("boom")), undefined);
  equal(toS3Error(new objectErrors.BitrotDetected("x")), undefined);
});

Deno.test("writes the error document with code, message, resource and request id", () => {
  const xml = errorXml(new S3Error("NoSuchKey", { bucket: "b", key: "a<b" }), {
    resource: "/b/a<b",
    requestId: "ABC",
    hostId: "host",
  });
  match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code>/);
  match(xml, /<Message>The specified key does not exist.<\/Message>/);
  match(xml, /<Key>a&lt;b<\/Key>/);
  match(xml, /<Resource>\/b\/a&lt;b<\/Resource><RequestId>ABC<\/RequestId>/);
});
