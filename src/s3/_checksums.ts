/**
 * Checksums a client declares for an upload: Content-MD5, one x-amz-checksum-<alg> header, or a
 * trailer named by x-amz-trailer (aws-chunked bodies). The object layer hashes the body; the
 * `verify` built here compares before it commits, so a mismatch stores nothing.
 */
import type { BodyDigest, ChecksumAlgorithm, ChecksumSet, ChecksumType } from "../object/types.ts";
import { DIGEST_BYTES, fromBase64, toBase64, toHex } from "../util/checksums.ts";
import { S3Error } from "./errors.ts";

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = [
  "CRC32",
  "CRC32C",
  "CRC64NVME",
  "SHA1",
  "SHA256",
];

export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

export function parseChecksumAlgorithm(v: string | null): ChecksumAlgorithm | undefined {
  if (v === null || v === "") return undefined;
  const alg = CHECKSUM_ALGORITHMS.find((a) => a === v.toUpperCase());
  if (alg === undefined) {
    throw new S3Error("InvalidRequest", {
      message: "Value for x-amz-checksum-algorithm header is invalid.",
    });
  }
  return alg;
}

export function parseChecksumType(v: string | null): ChecksumType | undefined {
  if (v === null || v === "") return undefined;
  const t = v.toUpperCase();
  if (t === "FULL_OBJECT" || t === "COMPOSITE") return t;
  throw new S3Error("InvalidRequest", {
    message: "Value for x-amz-checksum-type header is invalid.",
  });
}

export interface DeclaredChecksums {
  /** Algorithms the object layer must compute. */
  algorithms: ChecksumAlgorithm[];
  md5?: Uint8Array;
  /** Values from headers (base64). */
  expected: ChecksumSet;
  /** The algorithm whose value arrives in the trailer. */
  trailer?: ChecksumAlgorithm;
}

/** Reads Content-MD5, x-amz-checksum-*, x-amz-sdk-checksum-algorithm and x-amz-trailer. */
export function declaredChecksums(headers: Headers): DeclaredChecksums {
  const out: DeclaredChecksums = { algorithms: [], expected: {} };
  const md5 = headers.get("content-md5");
  if (md5 !== null) {
    const bytes = fromBase64(md5.trim());
    if (bytes === undefined || bytes.byteLength !== 16) throw new S3Error("InvalidDigest");
    out.md5 = bytes;
  }
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = headers.get(checksumHeaderName(alg));
    if (v === null) continue;
    const bytes = fromBase64(v.trim());
    if (bytes === undefined || bytes.byteLength !== DIGEST_BYTES[alg]) {
      throw new S3Error("InvalidRequest", {
        message: `Value for ${checksumHeaderName(alg)} header is invalid.`,
      });
    }
    out.expected[alg] = v.trim();
    out.algorithms.push(alg);
  }
  if (out.algorithms.length > 1) {
    throw new S3Error("InvalidRequest", {
      message:
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    });
  }
  const trailer = headers.get("x-amz-trailer");
  if (trailer !== null && trailer.trim() !== "") {
    const name = trailer.trim().toLowerCase();
    const alg = CHECKSUM_ALGORITHMS.find((a) => checksumHeaderName(a) === name);
    if (alg === undefined) {
      throw new S3Error("InvalidRequest", {
        message: `The value specified in the x-amz-trailer header is not supported`,
      });
    }
    if (out.algorithms.length > 0 && out.algorithms[0] !== alg) {
      throw new S3Error("InvalidRequest", {
        message:
          "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
      });
    }
    out.trailer = alg;
    if (!out.algorithms.includes(alg)) out.algorithms.push(alg);
  }
  const sdk = parseChecksumAlgorithm(headers.get("x-amz-sdk-checksum-algorithm"));
  if (sdk !== undefined && !out.algorithms.includes(sdk)) {
    if (out.algorithms.length > 0) {
      throw new S3Error("InvalidRequest", {
        message: "Value for x-amz-sdk-checksum-algorithm header is invalid.",
      });
    }
    out.algorithms.push(sdk);
  }
  return out;
}

/** The `verify` callback for the object layer: compares what the body hashed to. */
export function makeVerify(
  declared: DeclaredChecksums,
  trailers: Promise<Headers> | undefined,
  declaredSize = -1,
): (digest: BodyDigest) => Promise<void> {
  return async (digest) => {
    if (declaredSize >= 0 && digest.size !== declaredSize) throw new S3Error("IncompleteBody");
    if (declared.md5 !== undefined && toBase64(declared.md5) !== toBase64(digest.md5)) {
      throw new S3Error("BadDigest", {
        message: "The Content-MD5 you specified did not match what we received.",
        extra: {
          ExpectedDigest: toHex(declared.md5),
          CalculatedDigest: toBase64(digest.md5),
        },
      });
    }
    const expected: ChecksumSet = { ...declared.expected };
    if (declared.trailer !== undefined && trailers !== undefined) {
      const t = await trailers;
      const v = t.get(checksumHeaderName(declared.trailer));
      if (v === null) {
        throw new S3Error("MalformedTrailerError", {
          message: `The trailer ${checksumHeaderName(declared.trailer)} was declared but not sent.`,
        });
      }
      const bytes = fromBase64(v.trim());
      if (bytes === undefined || bytes.byteLength !== DIGEST_BYTES[declared.trailer]) {
        throw new S3Error("InvalidRequest", {
          message: `Value for ${checksumHeaderName(declared.trailer)} trailing header is invalid.`,
        });
      }
      expected[declared.trailer] = v.trim();
    }
    for (const alg of CHECKSUM_ALGORITHMS) {
      const want = expected[alg];
      if (want === undefined) continue;
      if (digest.checksums[alg] !== want) {
        throw new S3Error("BadDigest", {
          message: `The ${alg} you specified did not match the calculated checksum.`,
        });
      }
    }
  };
}

/** Sets x-amz-checksum-<alg> (and -type) response headers. */
export function setChecksumHeaders(h: Headers, sums: ChecksumSet, type?: ChecksumType): void {
  let any = false;
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = sums[alg];
    if (v !== undefined) {
      h.set(checksumHeaderName(alg), v);
      any = true;
    }
  }
  if (any && type !== undefined) h.set("x-amz-checksum-type", type);
}

/** `ChecksumCRC32` etc. as XML element names. */
export function checksumElementName(alg: ChecksumAlgorithm): string {
  return `Checksum${alg}`;
}

/** `<ChecksumCRC32>..</ChecksumCRC32>...<ChecksumType>..</ChecksumType>` for the sums present. */
export function writeChecksumElements(
  w: { leaf(name: string, value: string | undefined): unknown },
  sums: ChecksumSet,
  type?: ChecksumType,
): void {
  let any = false;
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = sums[alg];
    if (v === undefined) continue;
    w.leaf(checksumElementName(alg), v);
    any = true;
  }
  if (any && type !== undefined) w.leaf("ChecksumType", type);
}
