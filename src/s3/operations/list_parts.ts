import { LIST_PARTS_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { writeChecksumElements } from "../_checksums.ts";
import { isoDate, quoteEtag, writeOwner, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import { uploadIdParam } from "./_part.ts";
import { partPlainSize, sseOf } from "../_sse.ts";

export async function listParts(ctx: RequestContext): Promise<Response> {
  const uploadId = uploadIdParam(ctx);
  const maxParts = ctx.intParam("max-parts", LIST_PARTS_MAX, 0, LIST_PARTS_MAX);
  const marker = ctx.intParam("part-number-marker", 0, 0, Number.MAX_SAFE_INTEGER);
  const res = await ctx.objects.listParts(ctx.bucket, ctx.key, uploadId, {
    partNumberMarker: marker,
    maxParts,
  });
  const w = new XmlWriter().open("ListPartsResult", { xmlns: S3_XMLNS });
  w.leaf("Bucket", ctx.bucket).leaf("Key", ctx.key).leaf("UploadId", uploadId);
  writeOwner(w, "Initiator");
  writeOwner(w);
  w.leaf("StorageClass", res.upload.storageClass);
  w.leaf("PartNumberMarker", marker);
  w.leaf("NextPartNumberMarker", res.nextPartNumberMarker ?? res.parts.at(-1)?.partNumber ?? 0);
  w.leaf("MaxParts", maxParts).leaf("IsTruncated", res.isTruncated);
  if (res.upload.checksumAlgorithm !== undefined) {
    w.leaf("ChecksumAlgorithm", res.upload.checksumAlgorithm);
    w.leaf("ChecksumType", res.upload.checksumType);
  }
  const encrypted = sseOf(res.upload.metadata)?.multipart === true;
  for (const p of res.parts) {
    w.open("Part").leaf("PartNumber", p.partNumber).leaf("LastModified", isoDate(p.lastModified));
    w.leaf("ETag", quoteEtag(p.etag)).leaf("Size", encrypted ? partPlainSize(p.size) : p.size);
    writeChecksumElements(w, p.checksums);
    w.close();
  }
  w.close();
  return xmlResponse(w);
}
