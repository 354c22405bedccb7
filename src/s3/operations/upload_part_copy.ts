import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { writeChecksumElements } from "../_checksums.ts";
import { checkCopySourceConditions } from "../_conditions.ts";
import { openCopySource } from "../_copy_source.ts";
import { isoDate, quoteEtag, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import { emptyStream } from "../_body.ts";
import { partNumberParam, uploadIdParam } from "./_part.ts";

/** UploadPartCopy: a part from (a byte range of) an existing object. */
export async function uploadPartCopy(ctx: RequestContext): Promise<Response> {
  const partNumber = partNumberParam(ctx);
  const uploadId = uploadIdParam(ctx);
  const upload = await ctx.objects.getMultipartUpload(ctx.bucket, ctx.key, uploadId);
  const reader = await openCopySource(ctx);
  let streamed = false;
  let stream: ReadableStream<Uint8Array> | undefined;
  try {
    checkCopySourceConditions(ctx.headers, reader.info);
    const size = reader.info.size;
    let start = 0;
    let length = size;
    const range = ctx.headers.get("x-amz-copy-source-range");
    if (range !== null) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(range.trim());
      if (m === null || Number(m[1]) > Number(m[2]) || Number(m[2]) >= size) {
        throw new S3Error("InvalidArgument", {
          message: `Range specified is not valid for source object of size: ${size}`,
          extra: { ArgumentName: "x-amz-copy-source-range", ArgumentValue: range },
        });
      }
      start = Number(m[1]);
      length = Number(m[2]) - start + 1;
    }
    streamed = length > 0;
    stream = streamed ? reader.stream(start, length) : emptyStream();
    const part = await ctx.objects.putObjectPart(
      ctx.bucket,
      ctx.key,
      uploadId,
      partNumber,
      stream,
      upload.checksumAlgorithm !== undefined
        ? { size: length, checksumAlgorithms: [upload.checksumAlgorithm] }
        : { size: length },
    );
    const w = new XmlWriter().open("CopyPartResult", { xmlns: S3_XMLNS });
    w.leaf("LastModified", isoDate(part.lastModified)).leaf("ETag", quoteEtag(part.etag));
    writeChecksumElements(w, part.checksums);
    w.close();
    return xmlResponse(w);
  } catch (e) {
    if (stream !== undefined) await stream.cancel().catch(() => {});
    throw e;
  } finally {
    if (!streamed) reader.close();
  }
}
