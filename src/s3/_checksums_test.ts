import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { S3Error } from "./errors.ts";
import { declaredChecksums, makeVerify } from "./_checksums.ts";

const is = (code: string) => (e: unknown) => e instanceof S3Error && e.code === code;
const MD5_HELLO = new Uint8Array([
  0x5d,
  0x41,
  0x40,
  0x2a,
  0xbc,
  0x4b,
  0x2a,
  0x76,
  0xb9,
  0x71,
  0x9d,
  0x91,
  0x10,
  0x17,
  0xc5,
  0x92,
]);

Deno.test("reads Content-MD5, one checksum header, the trailer and the SDK algorithm", () => {
  const d = declaredChecksums(
    new Headers({ "content-md5": "XUFAKrxLKna5cZ2REBfFkg==", "x-amz-checksum-crc32": "NhCmhg==" }),
  );
  deepEqual(d.md5, MD5_HELLO);
  deepEqual(d.algorithms, ["CRC32"]);
  deepEqual(d.expected, { CRC32: "NhCmhg==" });
  const t = declaredChecksums(
    new Headers({
      "x-amz-trailer": "x-amz-checksum-crc64nvme",
      "x-amz-sdk-checksum-algorithm": "CRC64NVME",
    }),
  );
  deepEqual(t.algorithms, ["CRC64NVME"]);
  equal(t.trailer, "CRC64NVME");
});

Deno.test("refuses malformed digests and two checksum algorithms", () => {
  throws(() => declaredChecksums(new Headers({ "content-md5": "short" })), is("InvalidDigest"));
  throws(
    () => declaredChecksums(new Headers({ "x-amz-checksum-sha256": "AAAA" })),
    is("InvalidRequest"),
  );
  throws(
    () =>
      declaredChecksums(
        new Headers({ "x-amz-checksum-crc32": "NhCmhg==", "x-amz-checksum-crc32c": "AAAAAA==" }),
      ),
    is("InvalidRequest"),
  );
});

Deno.test("verify compares MD5, header and trailer values and the declared size", async () => {
  const digest = { size: 5, md5: MD5_HELLO, checksums: { CRC32: "NhCmhg==" } };
  const ok = makeVerify(
    declaredChecksums(new Headers({ "content-md5": "XUFAKrxLKna5cZ2REBfFkg==" })),
    undefined,
    5,
  );
  await ok(digest);
  await rejects(
    makeVerify(declaredChecksums(new Headers()), undefined, 6)(digest),
    is("IncompleteBody"),
  );
  await rejects(
    makeVerify(declaredChecksums(new Headers({ "x-amz-checksum-crc32": "AAAAAA==" })), undefined)(
      digest,
    ),
    is("BadDigest"),
  );
  const trailerDeclared = declaredChecksums(
    new Headers({ "x-amz-trailer": "x-amz-checksum-crc32" }),
  );
  await makeVerify(
    trailerDeclared,
    Promise.resolve(new Headers({ "x-amz-checksum-crc32": "NhCmhg==" })),
  )(digest);
  await rejects(
    makeVerify(
      trailerDeclared,
      Promise.resolve(new Headers({ "x-amz-checksum-crc32": "AAAAAA==" })),
    )(
      digest,
    ),
    is("BadDigest"),
  );
  await rejects(
    makeVerify(trailerDeclared, Promise.resolve(new Headers()))(digest),
    is("MalformedTrailerError"),
  );
});
