import { PART_SIZE_BYTES_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { declaredChecksums, makeVerify, setChecksumHeaders } from "../_checksums.ts";
import { emptyResponse, quoteEtag } from "../_respond.ts";
import { partNumberParam, uploadIdParam } from "./_part.ts";

import {
  customerKeyOf,
  openDataKey,
  partTransform,
  setSseHeaders,
  type SseInfo,
  sseOf,
} from "../_sse.ts";
import type { CustomerKey } from "../../crypto/mod.ts";

/** The data key of an encrypted upload; a wrong or missing SSE-C key is 400, as AWS. */
export async function openUploadKey(
  ctx: RequestContext,
  sse: SseInfo,
  customerKey: CustomerKey | undefined,
): Promise<Uint8Array> {
  try {
    return await openDataKey(ctx, sse, { bucket: ctx.bucket, key: ctx.key, customerKey });
  } catch (e) {
    if (e instanceof S3Error && e.code === "AccessDenied") {
      throw new S3Error("InvalidRequest", {
        message: "The provided encryption parameters did not match the ones used originally.",
      });
    }
    throw e;
  }
}

/** UploadPart: streams one part; a part with the same number replaces the earlier one. */
export async function uploadPart(ctx: RequestContext): Promise<Response> {
  const partNumber = partNumberParam(ctx);
  const uploadId = uploadIdParam(ctx);
  const declared = declaredChecksums(ctx.headers);
  const upload = await ctx.objects.getMultipartUpload(ctx.bucket, ctx.key, uploadId);
  const body = ctx.body();
  if (body.size < 0) throw new S3Error("MissingContentLength");
  if (body.size > PART_SIZE_BYTES_MAX) {
    throw new S3Error("EntityTooLarge", {
      extra: { ProposedSize: String(body.size), MaxSizeAllowed: String(PART_SIZE_BYTES_MAX) },
    });
  }
  const algorithms = [...declared.algorithms];
  if (upload.checksumAlgorithm !== undefined && !algorithms.includes(upload.checksumAlgorithm)) {
    algorithms.push(upload.checksumAlgorithm);
  }
  // An encrypted upload's parts are encrypted under its data key; SSE-C parts must carry the
  // upload's key (a different one is 400, as AWS).
  const sse = sseOf(upload.metadata);
  const customerKey = await customerKeyOf(ctx);
  let transform;
  if (sse !== undefined) {
    const dataKey = await openUploadKey(ctx, sse, customerKey);
    transform = partTransform(sse, dataKey, partNumber, body.size);
    dataKey.fill(0);
  } else if (customerKey !== undefined) {
    throw new S3Error("InvalidRequest", {
      message: "The multipart upload was not initiated with Server Side Encryption with " +
        "Customer provided keys.",
    });
  }
  const part = await ctx.objects.putObjectPart(
    ctx.bucket,
    ctx.key,
    uploadId,
    partNumber,
    body.stream,
    {
      size: body.size,
      checksumAlgorithms: algorithms,
      verify: makeVerify(declared, body.trailers, body.size),
      ...(transform !== undefined ? { transform } : {}),
    },
  );
  const headers = new Headers({ etag: quoteEtag(part.etag) });
  setSseHeaders(headers, sse, customerKey);
  setChecksumHeaders(headers, part.checksums);
  return emptyResponse(200, headers);
}
