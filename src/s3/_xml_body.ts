/**
 * Reads a request's XML document (bounded) and checks Content-MD5 or an x-amz-checksum-* header
 * when the client sent one (DeleteObjects, tagging and CORS requests carry them).
 */
import { createHasher, toBase64 } from "../util/checksums.ts";
import type { RequestContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { CHECKSUM_ALGORITHMS, checksumHeaderName, declaredChecksums } from "./_checksums.ts";
import { readBoundedText } from "./xml.ts";

/**
 * `objectChecksums`: the x-amz-checksum-* headers describe the object, not this document
 * (CompleteMultipartUpload), so only Content-MD5 is checked here.
 */
export async function readXmlBody(
  ctx: RequestContext,
  opts: { objectChecksums?: boolean } = {},
): Promise<string> {
  const declared = declaredChecksums(
    opts.objectChecksums ? new Headers(pick(ctx.headers, "content-md5")) : ctx.headers,
  );
  const text = await readBoundedText(ctx.body().stream);
  const bytes = new TextEncoder().encode(text);
  if (declared.md5 !== undefined) {
    const h = await createHasher("MD5");
    h.update(bytes);
    if (toBase64(h.digest()) !== toBase64(declared.md5)) {
      throw new S3Error("BadDigest", {
        message: "The Content-MD5 you specified did not match what we received.",
      });
    }
  }
  for (const alg of CHECKSUM_ALGORITHMS) {
    const want = declared.expected[alg];
    if (want === undefined) continue;
    const h = await createHasher(alg);
    h.update(bytes);
    if (toBase64(h.digest()) !== want) {
      throw new S3Error("BadDigest", {
        message: `The ${alg} you specified did not match the calculated checksum.`,
        extra: { Header: checksumHeaderName(alg) },
      });
    }
  }
  return text;
}

function pick(headers: Headers, name: string): Array<[string, string]> {
  const v = headers.get(name);
  return v === null ? [] : [[name, v]];
}

/** Refuses headers that ask for features Shale does not have yet, rather than ignoring them. */
export function rejectUnsupportedHeaders(headers: Headers): void {
  for (
    const name of [
      "x-amz-object-lock-mode",
      "x-amz-object-lock-retain-until-date",
      "x-amz-object-lock-legal-hold",
    ]
  ) {
    if (headers.has(name)) {
      throw new S3Error("NotImplemented", {
        message: `The ${name} header is not implemented yet`,
        extra: { Header: name },
      });
    }
  }
}
