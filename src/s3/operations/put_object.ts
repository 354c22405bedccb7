import { PUT_OBJECT_SIZE_BYTES_MAX } from "../../config/limits.ts";
import type { PutObjectOptions } from "../../object/types.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { declaredChecksums, makeVerify, setChecksumHeaders } from "../_checksums.ts";
import { writeConditionsFromHeaders } from "../_conditions.ts";
import { metadataFromHeaders, storageClassFromHeaders, tagsFromHeader } from "../_metadata.ts";
import { emptyResponse, quoteEtag } from "../_respond.ts";
import { rejectUnsupportedHeaders } from "../_xml_body.ts";
import { newEncryption, objectTransform, requestedEncryption, setSseHeaders } from "../_sse.ts";

/**
 * PutObject: the body streams into the object layer, which hashes it; Content-MD5 and
 * x-amz-checksum-* (header or trailer) are compared before commit, so a mismatch stores nothing.
 * If-None-Match: * and If-Match make it a conditional write. With SSE (headers or the bucket's
 * default) the body is encrypted after hashing and before erasure coding (_sse.ts).
 */
export async function putObject(ctx: RequestContext): Promise<Response> {
  rejectUnsupportedHeaders(ctx.headers);
  const declared = declaredChecksums(ctx.headers);
  const opts: PutObjectOptions = { size: -1, metadata: metadataFromHeaders(ctx.headers) };
  const storageClass = storageClassFromHeaders(ctx.headers);
  if (storageClass !== undefined) opts.storageClass = storageClass;
  const tags = tagsFromHeader(ctx.headers.get("x-amz-tagging"));
  if (tags !== undefined) opts.tags = tags;
  const conditions = writeConditionsFromHeaders(ctx.headers);
  if (conditions !== undefined) opts.conditions = conditions;
  const body = ctx.body();
  if (body.size < 0) throw new S3Error("MissingContentLength");
  if (body.size > PUT_OBJECT_SIZE_BYTES_MAX) {
    throw new S3Error("EntityTooLarge", {
      extra: { ProposedSize: String(body.size), MaxSizeAllowed: String(PUT_OBJECT_SIZE_BYTES_MAX) },
    });
  }
  opts.size = body.size;
  opts.checksumAlgorithms = declared.algorithms;
  opts.verify = makeVerify(declared, body.trailers, body.size);
  const encryption = await requestedEncryption(ctx);
  let sse;
  if (encryption !== undefined) {
    const created = await newEncryption(ctx, encryption, { bucket: ctx.bucket, key: ctx.key });
    sse = created.sse;
    opts.transform = objectTransform(sse, created.dataKey, created.internal, body.size);
    opts.metadata.internal = created.internal;
    created.dataKey.fill(0);
  }
  const info = await ctx.objects.putObject(ctx.bucket, ctx.key, body.stream, opts);
  const headers = new Headers({ etag: quoteEtag(info.etag) });
  setSseHeaders(headers, sse, encryption?.mode === "SSE-C" ? encryption.customerKey : undefined);
  const returned: typeof info.checksums = {};
  for (const alg of declared.algorithms) {
    const v = info.checksums[alg];
    if (v !== undefined) returned[alg] = v;
  }
  setChecksumHeaders(headers, returned, "FULL_OBJECT");
  return emptyResponse(200, headers);
}
