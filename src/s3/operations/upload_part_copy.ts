import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { writeChecksumElements } from "../_checksums.ts";
import { checkCopySourceConditions } from "../_conditions.ts";
import { openCopySource } from "../_copy_source.ts";
import { isoDate, quoteEtag, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import { emptyStream } from "../_body.ts";
import { partNumberParam, uploadIdParam } from "./_part.ts";
import { customerKeyOf, partTransform, plaintextReader, setSseHeaders, sseOf } from "../_sse.ts";
import { openUploadKey } from "./upload_part.ts";
import { encryptedSize, STREAM_IV_BYTES } from "../../crypto/mod.ts";

/** UploadPartCopy: a part from (a byte range of) an existing object. */
export async function uploadPartCopy(ctx: RequestContext): Promise<Response> {
  const partNumber = partNumberParam(ctx);
  const uploadId = uploadIdParam(ctx);
  const upload = await ctx.objects.getMultipartUpload(ctx.bucket, ctx.key, uploadId);
  const reader = await openCopySource(ctx);
  let streamed = false;
  let stream: ReadableStream<Uint8Array> | undefined;
  try {
    const plain = await plaintextReader(ctx, reader, { ...reader.source, copySource: true });
    checkCopySourceConditions(ctx.headers, plain.info);
    const size = plain.info.size;
    // The part is encrypted under the upload's key (SSE-C: the request's key must be the
    // upload's), whatever the source's encryption.
    const sse = sseOf(upload.metadata);
    const customerKey = await customerKeyOf(ctx);
    let transform;
    if (sse !== undefined) {
      const dataKey = await openUploadKey(ctx, sse, customerKey);
      transform = partTransform(sse, dataKey, partNumber, -1);
      dataKey.fill(0);
    }
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
    stream = streamed ? plain.stream(start, length) : emptyStream();
    if (transform !== undefined) transform.storedSize = STREAM_IV_BYTES + encryptedSize(length);
    const part = await ctx.objects.putObjectPart(
      ctx.bucket,
      ctx.key,
      uploadId,
      partNumber,
      stream,
      {
        size: length,
        ...(upload.checksumAlgorithm !== undefined
          ? { checksumAlgorithms: [upload.checksumAlgorithm] }
          : {}),
        ...(transform !== undefined ? { transform } : {}),
      },
    );
    const headers = new Headers();
    setSseHeaders(headers, sse, customerKey);
    const w = new XmlWriter().open("CopyPartResult", { xmlns: S3_XMLNS });
    w.leaf("LastModified", isoDate(part.lastModified)).leaf("ETag", quoteEtag(part.etag));
    writeChecksumElements(w, part.checksums);
    w.close();
    return xmlResponse(w, { headers });
  } catch (e) {
    if (stream !== undefined) await stream.cancel().catch(() => {});
    throw e;
  } finally {
    if (!streamed) reader.close();
  }
}
