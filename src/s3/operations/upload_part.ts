import { PART_SIZE_BYTES_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { declaredChecksums, makeVerify, setChecksumHeaders } from "../_checksums.ts";
import { emptyResponse, quoteEtag } from "../_respond.ts";
import { partNumberParam, uploadIdParam } from "./_part.ts";

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
    },
  );
  const headers = new Headers({ etag: quoteEtag(part.etag) });
  setChecksumHeaders(headers, part.checksums);
  return emptyResponse(200, headers);
}
